"""Public labelled data the models learn from, written as JSON lines from fetched repositories."""
