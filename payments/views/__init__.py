"""Staff pages of the payments app, one module per part: recipients and case files, decisions."""
