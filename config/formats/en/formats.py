# English formats for a Kazakhstani service: dates are day.month.year in every language of the
# app (Django's English writes 12/03/2026 for 3 December and takes 03.12.2026 as no date at
# all). Numbers keep the English decimal point and comma grouping.
DATE_FORMAT = "d.m.Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "d.m.Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
# No month-first forms: 03/12/2026 would be 12 March to one reader and 3 December to another.
DATE_INPUT_FORMATS = [
    "%d.%m.%Y",  # '03.12.2026'
    "%d.%m.%y",  # '03.12.26'
    "%Y-%m-%d",  # '2026-12-03' (ISO)
]
DATETIME_INPUT_FORMATS = [
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]
