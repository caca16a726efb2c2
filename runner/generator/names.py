"""Realistic but fake people: names, usernames, e-mail addresses, phones, cities, IPs.

The 10 Academy cohort is pan-African, so names and cities are drawn from East, West and
Southern Africa. Every address uses reserved example domains; phone numbers are in real
national formats but random.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FIRST_NAMES = (
    "Abebe",
    "Achieng",
    "Adaeze",
    "Adebayo",
    "Aisha",
    "Akinyi",
    "Almaz",
    "Amani",
    "Amara",
    "Aminata",
    "Asha",
    "Ayodele",
    "Baraka",
    "Bethlehem",
    "Bongani",
    "Chanda",
    "Chidi",
    "Chiamaka",
    "Chipo",
    "Dawit",
    "Dennis",
    "Ebo",
    "Efua",
    "Emeka",
    "Esi",
    "Faith",
    "Fatuma",
    "Gift",
    "Grace",
    "Habib",
    "Hana",
    "Ibrahim",
    "Imani",
    "Ivy",
    "Jabari",
    "Joseph",
    "Kagiso",
    "Kamau",
    "Kofi",
    "Kwame",
    "Lerato",
    "Lindiwe",
    "Lucy",
    "Makena",
    "Mariam",
    "Mercy",
    "Meron",
    "Moses",
    "Mulugeta",
    "Naledi",
    "Nia",
    "Njeri",
    "Nnamdi",
    "Nomsa",
    "Obinna",
    "Oluwaseun",
    "Omari",
    "Rahel",
    "Ruth",
    "Samuel",
    "Selam",
    "Sipho",
    "Tadesse",
    "Tendai",
    "Thabo",
    "Tigist",
    "Tunde",
    "Wanjiru",
    "Yaw",
    "Yohannes",
    "Zainab",
    "Zanele",
    "Zawadi",
    "Kevin",
    "Brian",
    "Daniel",
    "Esther",
    "Peter",
    "Sarah",
    "David",
)
LAST_NAMES = (
    "Abebe",
    "Achieng",
    "Adeyemi",
    "Adhiambo",
    "Alemu",
    "Amoah",
    "Asante",
    "Banda",
    "Bekele",
    "Boateng",
    "Chebet",
    "Chukwu",
    "Dlamini",
    "Eze",
    "Gebre",
    "Girma",
    "Haile",
    "Kamau",
    "Kariuki",
    "Kebede",
    "Khumalo",
    "Kiprop",
    "Koech",
    "Mensah",
    "Mbeki",
    "Moyo",
    "Mutua",
    "Mwangi",
    "Naidoo",
    "Ndlovu",
    "Njoroge",
    "Nkosi",
    "Nwosu",
    "Ochieng",
    "Odhiambo",
    "Okafor",
    "Okeke",
    "Olawale",
    "Omondi",
    "Onyango",
    "Osei",
    "Otieno",
    "Owusu",
    "Phiri",
    "Tesfaye",
    "Uwimana",
    "Wambui",
    "Wanjiku",
    "Zulu",
    "Mensa",
    "Tembo",
    "Mulenga",
    "Nyambura",
    "Kiplagat",
    "Bello",
    "Diallo",
    "Traore",
    "Ndiaye",
)
# (city, ISO country, phone prefix, local digits after the prefix)
CITIES = (
    ("Nairobi", "KE", "+254 7", 8),
    ("Mombasa", "KE", "+254 7", 8),
    ("Kisumu", "KE", "+254 7", 8),
    ("Nakuru", "KE", "+254 7", 8),
    ("Eldoret", "KE", "+254 7", 8),
    ("Addis Ababa", "ET", "+251 9", 8),
    ("Kigali", "RW", "+250 78", 7),
    ("Kampala", "UG", "+256 77", 7),
    ("Lagos", "NG", "+234 80", 8),
    ("Abuja", "NG", "+234 81", 8),
    ("Accra", "GH", "+233 24", 7),
    ("Kumasi", "GH", "+233 20", 7),
    ("Johannesburg", "ZA", "+27 82", 7),
    ("Cape Town", "ZA", "+27 83", 7),
    ("Dar es Salaam", "TZ", "+255 75", 7),
    ("Lusaka", "ZM", "+260 97", 7),
    ("Harare", "ZW", "+263 77", 7),
    ("Dakar", "SN", "+221 77", 7),
)
# Most cities send few learners; Nairobi and Addis send most.
CITY_WEIGHTS = np.array([30, 4, 4, 3, 2, 18, 6, 5, 6, 3, 4, 1, 2, 1, 3, 1, 1, 1], dtype=float)
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net", "students.example.edu")
# First octets of mobile and broadband ranges, so IPs look like African ISPs.
IP_FIRST_OCTETS = (41, 102, 105, 154, 196, 197)


def unique_usernames(firstnames: Iterable[str], lastnames: Iterable[str]) -> list[str]:
    """``first.last``, numbered from 2 on clashes, like a registrar would do it."""
    seen: dict[str, int] = {}
    names = []
    for first, last in zip(firstnames, lastnames, strict=True):
        base = f"{first}.{last}".lower()
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}{seen[base]}")
    return names


def pick(
    rng: np.random.Generator, options: tuple, n: int, weights: np.ndarray | None = None
) -> list:
    probabilities = None if weights is None else weights / weights.sum()
    return [options[i] for i in rng.choice(len(options), size=n, p=probabilities)]


def phone_numbers(rng: np.random.Generator, cities: list[tuple[str, str, str, int]]) -> list[str]:
    digits = rng.integers(0, 10, size=(len(cities), 8))
    return [
        prefix + "".join(str(d) for d in row[:count])
        for (_, _, prefix, count), row in zip(cities, digits, strict=True)
    ]


def ip_addresses(rng: np.random.Generator, n: int) -> list[str]:
    first = rng.choice(np.array(IP_FIRST_OCTETS), size=n)
    rest = rng.integers(1, 255, size=(n, 3))
    return [f"{a}.{b}.{c}.{d}" for a, (b, c, d) in zip(first, rest, strict=True)]


def password_hashes(rng: np.random.Generator, n: int) -> list[str]:
    """Strings shaped like Moodle's SHA-512 crypt hashes; they hash nothing."""
    alphabet = np.array(list("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, 102))]
    return [f"$6$rounds=10000${''.join(row[:16])}${''.join(row[16:])}" for row in chars]


def random_tokens(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """Lower-case alphanumeric tokens, e.g. PHP session ids."""
    alphabet = np.array(list("abcdefghijklmnopqrstuv0123456789"))
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    return ["".join(row) for row in chars]
