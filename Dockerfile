# One image for intake, adapter and the CRM simulator; the command picks the process.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY shared ./shared
COPY intake_service ./intake_service
COPY crm_adapter ./crm_adapter
COPY devtools ./devtools
RUN pip install --no-cache-dir -c constraints.txt -e .
RUN pybabel compile
RUN useradd --create-home mam && mkdir -p /data && chown mam /data
USER mam
ENV MAM_DATA_DIR=/data
