"""Everyone on the site: guest, admin, teachers, managers, the learner cohort and a few
self-registered accounts that were never confirmed. Arrays are indexed by mdl_user.id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import names
from . import timeline as tl

GUEST, ADMIN, TEACHER, MANAGER, LEARNER, SIGNUP = 1, 2, 3, 4, 5, 6
ADMIN_ID = 2
N_TEACHERS = 30
N_MANAGERS = 5
LEARNERS_AT_SCALE1 = 1000
MIN_LEARNERS = 20
STAFF_DOMAIN = "10academy.example.org"


@dataclass
class People:
    role: np.ndarray  # GUEST .. SIGNUP; index 0 (nobody) is 0
    firstname: list[str]
    lastname: list[str]
    username: list[str]  # as created; deletion rewrites it when the user table is written
    email: list[str]
    city: list[str]
    country: list[str]
    phone: list[str]
    department: list[str]
    password: list[str]
    auth: list[str]
    confirmed: np.ndarray
    timecreated: np.ndarray
    ips: list[str]  # two per user: ips[2*id], ips[2*id+1]

    @property
    def count(self) -> int:
        return len(self.role) - 1

    def ids_of(self, role: int) -> np.ndarray:
        return np.flatnonzero(self.role == role)

    def fullname(self, user: int) -> str:
        return f"{self.firstname[user]} {self.lastname[user]}".strip()


def learner_count(scale: float) -> int:
    return max(MIN_LEARNERS, round(LEARNERS_AT_SCALE1 * scale))


def build_people(rng: np.random.Generator, scale: float) -> People:
    n_learners = learner_count(scale)
    n_signups = max(2, round(0.01 * n_learners))
    roles = np.concatenate(
        [
            [0, GUEST, ADMIN],
            np.full(N_TEACHERS, TEACHER),
            np.full(N_MANAGERS, MANAGER),
            np.full(n_learners, LEARNER),
            np.full(n_signups, SIGNUP),
        ]
    ).astype(np.int64)
    n = len(roles)
    firstnames = names.pick(rng, names.FIRST_NAMES, n)
    lastnames = names.pick(rng, names.LAST_NAMES, n)
    firstnames[:3], lastnames[:3] = ["", "Guest user", "Site"], ["", " ", "Administrator"]
    usernames = ["", "guest", "admin", *names.unique_usernames(firstnames[3:], lastnames[3:])]
    domains = names.pick(rng, names.EMAIL_DOMAINS, n)
    emails = ["", "root@localhost", "admin@10academy.example.org"] + [
        f"{usernames[i]}@{STAFF_DOMAIN if roles[i] in (TEACHER, MANAGER) else domains[i]}"
        for i in range(3, n)
    ]
    cities = names.pick(rng, names.CITIES, n, names.CITY_WEIGHTS)
    phones = names.phone_numbers(rng, cities)
    # Not everyone fills in a phone number.
    phones = [p if rng.random() < 0.7 and roles[i] >= TEACHER else "" for i, p in enumerate(phones)]
    department = {
        TEACHER: "Faculty",
        MANAGER: "Programme office",
        LEARNER: "Cohort 2019",
        SIGNUP: "",
    }
    created = np.zeros(n, dtype=np.int64)
    staff = roles == TEACHER
    staff |= roles == MANAGER
    created[staff] = tl.SETUP_START + 7200
    learners = np.flatnonzero(roles == LEARNER)
    created[learners] = tl.SETUP_START + 86400 + np.arange(len(learners)) * 3
    signups = np.flatnonzero(roles == SIGNUP)
    created[signups] = np.sort(
        tl.TERM_START + rng.integers(0, tl.TERM_DAYS * 86400, size=len(signups))
    )
    auth = ["manual"] * n
    confirmed = np.ones(n, dtype=np.int64)
    confirmed[0] = 0
    for user in signups:
        auth[user] = "email"
        confirmed[user] = 0
    return People(
        role=roles,
        firstname=firstnames,
        lastname=lastnames,
        username=usernames,
        email=emails,
        city=["", "", "Nairobi"] + [c[0] for c in cities[3:]],
        country=["", "", "KE"] + [c[1] for c in cities[3:]],
        phone=phones,
        department=[department.get(int(r), "") for r in roles],
        password=["", *names.password_hashes(rng, n - 1)],
        auth=auth,
        confirmed=confirmed,
        timecreated=created,
        ips=names.ip_addresses(rng, 2 * n),
    )
