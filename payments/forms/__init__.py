"""Forms of the payments app's staff pages, one module per part: recipients and case files, decisions."""
