"""`python -m chromatize ...` and `torchrun ... -m chromatize ...`: the same as the `chromatize` command."""
import sys

from .cli import main

sys.exit(main())
