"""`python -m crm_adapter api|worker|migrate|operator-key`."""

from crm_adapter.cli import main

if __name__ == "__main__":
    main()
