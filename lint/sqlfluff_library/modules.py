"""dbt's `modules` namespace (the Python modules dbt exposes to jinja)."""

import datetime
import re

__all__ = ["datetime", "re"]
