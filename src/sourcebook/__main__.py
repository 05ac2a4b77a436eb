from sourcebook.cli import app

app()
