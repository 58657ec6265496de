"""`python -m intake_service api|worker|migrate|operator-key`."""

from intake_service.cli import main

if __name__ == "__main__":
    main()
