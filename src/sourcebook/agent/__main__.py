"""``python -m sourcebook.agent run FOLDER "request"`` / ``resume RUN_DIR``."""

from sourcebook.agent.cli import main

main()
