"""What every stage uses: atomic writes, console output, user errors, quiet start-up,
ordered parallel maps and figures."""
