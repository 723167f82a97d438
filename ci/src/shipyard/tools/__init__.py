"""Programs the pipeline runs inside its step containers (``python3 -m shipyard.tools.<tool>``)."""
