"""Generate demo participant profiles: deterministic, varied, never a real address.

    python demo/generate_participants.py                  # demo/participants.csv, 240 rows
    python demo/generate_participants.py -n 1000000 -o /tmp/p.csv --seed 7

`generate(n, seed)` yields the same rows as dicts (the CSV's columns), so a benchmark
can stream a million profiles with the demo's distribution. Standard library only.

Distribution: countries in every ITU region, names from their cultures (some in native
script), time zones of the country, preferred language from the country (weighted
toward en, fr, es), topics from demo/courses.csv (a quarter with none, i.e. any topic;
a few spelt in capitals to exercise normalisation), regions, languages and modes often
left open, ~20% weekly digests, ~12% without recorded consent. Addresses are at
example.org, example.net and example.com (RFC 2606) and their subdomains.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import functools
import itertools
import random
import sys
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

HERE = Path(__file__).resolve().parent
COLUMNS = ("email", "name", "language", "country", "timezone", "topics", "regions",
           "languages", "modes", "frequency", "consent")
MODES = ("online_instructor", "online_self_paced", "face_to_face", "blended")
REGIONS = ("Africa", "Americas", "Arab States", "Asia-Pacific", "CIS", "Europe")
DOMAINS = (("example.org", 8), ("example.net", 5), ("example.com", 5),
           ("regulator.example.org", 3), ("ministry.example.net", 3),
           ("university.example.org", 3), ("operator.example.com", 3),
           ("ict.example.net", 2), ("mail.example.com", 2))

# A name part: (latin spelling, native script or "", gender "m"/"f"/"" for given names).
G = tuple[str, str, str]
F = tuple[str, str]


def _g(spec: str) -> list[G]:
    """'Latin|native|g, ...' → given names."""
    out = []
    for item in spec.split(","):
        latin, native, gender = [*item.strip().split("|"), "", ""][:3]
        out.append((latin, native, gender))
    return out


def _f(spec: str) -> list[F]:
    out = []
    for item in spec.split(","):
        latin, native = [*item.strip().split("|"), ""][:2]
        out.append((latin, native))
    return out


# culture: given names, family names, family name first?, share shown in native script,
# and whether family names take a feminine ending (-ov → -ova).
CULTURES: dict[str, tuple[list[G], list[F], bool, float, bool]] = {
    "east_africa": (_g("Wanjiru,Otieno,Achieng,Kamau,Njeri,Mwangi,Akinyi,Kiprop,Chebet,"
                       "Mutua,Nyambura,Baraka,Imani,Zawadi,Amani,Grace,Faith,Brian"),
                    _f("Kamau,Otieno,Wanjiku,Mwangi,Ochieng,Kiprotich,Njoroge,Kariuki,"
                       "Odhiambo,Uwimana,Habimana,Mugisha,Nakato,Ssempala"), False, 0, False),
    "west_africa": (_g("Chinedu,Ngozi,Oluwaseun,Adaeze,Emeka,Funmilayo,Kwame,Ama,Kofi,"
                       "Abena,Ibrahim,Aisha,Tunde,Yetunde,Efua,Yaw"),
                    _f("Okafor,Adeyemi,Eze,Okonkwo,Balogun,Mensah,Asante,Owusu,Boateng,"
                       "Abubakar,Nwosu,Adebayo,Danjuma"), False, 0, False),
    "francophone_africa": (
        _g("Aminata,Moussa,Fatou,Ousmane,Awa,Mamadou,Aïssatou,Cheikh,Marie-Claire,"
           "Jean-Baptiste,Kouassi,Adjoua,Serge,Yannick,Hervé,Clarisse,Mariam,Boubacar"),
        _f("Diop,Ndiaye,Fall,Sow,Traoré,Koné,Coulibaly,Ouattara,Kouamé,Mbarga,Nkoulou,"
           "Mukendi,Ilunga,Kabongo,Sawadogo,Ouédraogo,Diallo,Essomba"), False, 0, False),
    "arab": (_g("Ahmed|أحمد,Fatima|فاطمة,Mohamed|محمد,Layla|ليلى,Omar|عمر,Mariam|مريم,"
                "Youssef|يوسف,Nour|نور,Khaled|خالد,Huda|هدى,Karim|كريم,Salma|سلمى,"
                "Rania|رانيا,Tarek|طارق,Amira|أميرة,Hamza|حمزة"),
             _f("Haddad|حداد,El-Sayed|السيد,Mansour|منصور,Khalil|خليل,Nasser|ناصر,"
                "Aziz|عزيز,Hassan|حسن,Farouk|فاروق,Saleh|صالح,Abdallah|عبدالله,"
                "Bennani|بناني,Trabelsi|الطرابلسي,Al-Harbi|الحربي"), False, 0.35, False),
    "hispanic": (_g("María José,Juan Pablo,Camila,Santiago,Valentina,Alejandro,Lucía,Diego,"
                    "Gabriela,Andrés,Sofía,Martín,Daniela,Joaquín,Ximena,Iñaki,Begoña"),
                 _f("García,Rodríguez,Martínez,López,Hernández,González,Pérez,Sánchez,"
                    "Ramírez,Torres,Flores,Rojas,Vargas,Castillo,Mendoza,Quispe,Núñez"),
                 False, 0, False),
    "lusophone": (_g("João,Ana Clara,Thiago,Beatriz,Rafael,Larissa,Gustavo,Juliana,Conceição"),
                  _f("Silva,Souza,Oliveira,Santos,Pereira,Costa,Almeida,Ferreira,Araújo"),
                  False, 0, False),
    "french": (_g("Camille,Julien,Élodie,Mathieu,Chloé,Nicolas,Amélie,Thibault,Sophie,Lucas,"
                  "Margaux,Étienne,Geneviève,François,Zoë"),
               _f("Martin,Bernard,Dubois,Moreau,Lefèvre,Girard,Rousseau,Fontaine,Chevalier,"
                  "Lambert,Mercier,Dupont,Tremblay,Gagnon,Bouchard"), False, 0, False),
    "haitian": (_g("Jean-Robert,Nadège,Wilner,Fabienne,Guerda,Ricardo,Widline,Jocelyn"),
                _f("Joseph,Pierre,Jean-Louis,Charles,Étienne,Desrosiers,Toussaint"),
                False, 0, False),
    "russian": (_g("Anna|Анна|f,Dmitry|Дмитрий|m,Elena|Елена|f,Sergey|Сергей|m,Olga|Ольга|f,"
                   "Alexei|Алексей|m,Natalia|Наталья|f,Ivan|Иван|m,Irina|Ирина|f,"
                   "Mikhail|Михаил|m,Tatiana|Татьяна|f,Pavel|Павел|m"),
                _f("Ivanov|Иванов,Petrov|Петров,Smirnov|Смирнов,Kuznetsov|Кузнецов,"
                   "Sokolov|Соколов,Popov|Попов,Volkov|Волков,Morozov|Морозов,"
                   "Novikov|Новиков,Lebedev|Лебедев"), False, 0.4, True),
    "central_asian": (_g("Aigerim|Айгерим|f,Nurlan|Нурлан|m,Dilnoza|Дилноза|f,Timur|Тимур|m,"
                         "Aizhan|Айжан|f,Rustam|Рустам|m,Gulnara|Гульнара|f,Bakyt|Бакыт|m,"
                         "Madina|Мадина|f,Arman|Арман|m"),
                      _f("Abenov|Абенов,Karimov|Каримов,Suleimenov|Сулейменов,"
                         "Akhmetov|Ахметов,Yusupov|Юсупов,Rakhimov|Рахимов,"
                         "Zhaksybekov|Жаксыбеков"), False, 0.3, True),
    "ukrainian": (_g("Olena,Andriy,Oksana,Taras,Iryna,Bohdan,Yulia,Mykola"),
                  _f("Shevchenko,Kovalenko,Bondarenko,Tkachenko,Kravchenko,Melnyk,Boyko"),
                  False, 0, False),
    "chinese": (_g("Fang|芳,Wei|伟,Jing|静,Lei|磊,Min|敏,Jun|军,Yan|燕,Hao|浩,Xiaoling|晓玲,"
                   "Zhiwei|志伟,Yuting|雨婷,Haoran|浩然"),
                _f("Wang|王,Li|李,Zhang|张,Liu|刘,Chen|陈,Yang|杨,Zhao|赵,Huang|黄,Zhou|周,"
                   "Wu|吴"), True, 0.5, False),
    "korean": (_g("Minji|민지,Jihoon|지훈,Seoyeon|서연,Hyunwoo|현우,Yuna|유나,Dongha|동하,"
                  "Soyeon|소연,Jaewon|재원"),
               _f("Kim|김,Lee|이,Park|박,Choi|최,Jung|정,Kang|강,Yoon|윤"), True, 0.3, False),
    "southeast_asian": (_g("Nurul,Ahmad,Siti,Hafiz,Aisyah,Farid,Putri,Budi,Dewi,Agus,Sri,"
                           "Wei Ling,Somchai,Siriporn,Thi Lan,Minh"),
                        _f("Rahman,Ismail,Hassan,Santoso,Wijaya,Lestari,Kusuma,Hidayat,Tan,"
                           "Lim,Nguyen,Tran,Srisuk,Wongsawat"), False, 0, False),
    "filipino": (_g("Maria Cristina,Jose Miguel,Angelica,Mark Anthony,Kristine,Paolo,Rowena"),
                 _f("Santos,Reyes,Cruz,Bautista,Dela Cruz,Villanueva,Mendoza,Aquino"),
                 False, 0, False),
    "south_asian": (_g("Priya,Rahul,Ananya,Arjun,Sneha,Vikram,Fatima,Imran,Nadia,Sanjay,"
                       "Kavya,Anil,Tahmina,Nimal,Sabina,Bishal"),
                    _f("Sharma,Patel,Iyer,Reddy,Nair,Gupta,Khan,Hossain,Rahman,Perera,"
                       "Fernando,Shrestha,Chowdhury"), False, 0, False),
    "pacific": (_g("Litia,Sefo,Mere,Viliami,Ana,Tevita,Salote,Iosefa,Losana,Kelera"),
                _f("Tuilagi,Naidu,Vunibola,Fifita,Taufa,Leota,Tuipulotu,Waqa"), False, 0, False),
    "italian": (_g("Giulia,Marco,Francesca,Luca,Chiara,Alessandro,Federica,Niccolò"),
                _f("Rossi,Russo,Bianchi,Romano,Colombo,Ricci,Esposito,De Luca"), False, 0, False),
    "polish": (_g("Agnieszka,Piotr,Katarzyna,Tomasz,Magdalena,Krzysztof,Małgorzata,Paweł"),
               _f("Nowak,Wójcik,Kowalczyk,Mazur,Krawczyk,Zając,Król"), False, 0, False),
    "baltic": (_g("Rūta,Jonas,Eglė,Tomas,Aistė,Mindaugas,Ieva,Darius"),
               _f("Kazlauskas,Petrauskas,Jankauskas,Stankevičius,Vasiliauskas,Žukauskas"),
               False, 0, False),
    "central_european": (_g("Jana,Petr,Tereza,Martin,Lucie,Jakub,Elena,Aleksandar,Marija,"
                            "Stefan,Sanne,Daan,Lotte,Bram,Lena,Jonas"),
                         _f("Svoboda,Novotný,Černý,Dvořák,Petrovski,Trajkovski,Georgievski,"
                            "de Vries,Jansen,Bakker,Visser,van Dijk,Schneider,Fischer"),
                         False, 0, False),
    "anglophone_americas": (
        _g("Emily,Michael,Jasmine,Andre,Olivia,Kevin,Shanice,Marcus,Hannah,Tyrone,Aaliyah"),
        _f("Johnson,Williams,Brown,Campbell,Thompson,Clarke,Baptiste,Mohammed,Singh,Wong"),
        False, 0, False),
}

# country: (ITU region, weight, time zones, {language: weight}, {culture: weight})
COUNTRIES: dict[str, tuple[str, float, tuple[str, ...], dict[str, float], dict[str, float]]] = {
    "Kenya": ("Africa", 5, ("Africa/Nairobi",), {"en": 1}, {"east_africa": 1}),
    "United Republic of Tanzania": ("Africa", 2, ("Africa/Dar_es_Salaam",), {"en": 1},
                                    {"east_africa": 1}),
    "Uganda": ("Africa", 2, ("Africa/Kampala",), {"en": 1}, {"east_africa": 1}),
    "Rwanda": ("Africa", 2, ("Africa/Kigali",), {"en": .6, "fr": .4}, {"east_africa": 1}),
    "Nigeria": ("Africa", 5, ("Africa/Lagos",), {"en": 1}, {"west_africa": 1}),
    "Ghana": ("Africa", 3, ("Africa/Accra",), {"en": 1}, {"west_africa": 1}),
    "Senegal": ("Africa", 4, ("Africa/Dakar",), {"fr": 1}, {"francophone_africa": 1}),
    "Côte d'Ivoire": ("Africa", 4, ("Africa/Abidjan",), {"fr": 1}, {"francophone_africa": 1}),
    "Cameroon": ("Africa", 3, ("Africa/Douala",), {"fr": .7, "en": .3},
                 {"francophone_africa": 1}),
    "Democratic Republic of the Congo": ("Africa", 3, ("Africa/Kinshasa", "Africa/Lubumbashi"),
                                         {"fr": 1}, {"francophone_africa": 1}),
    "Burkina Faso": ("Africa", 2, ("Africa/Ouagadougou",), {"fr": 1}, {"francophone_africa": 1}),
    "Mauritius": ("Africa", 1, ("Indian/Mauritius",), {"en": .5, "fr": .5},
                  {"south_asian": .6, "french": .4}),
    "Egypt": ("Arab States", 4, ("Africa/Cairo",), {"ar": .6, "en": .4}, {"arab": 1}),
    "Morocco": ("Arab States", 2, ("Africa/Casablanca",), {"ar": .4, "fr": .6}, {"arab": 1}),
    "Tunisia": ("Arab States", 2, ("Africa/Tunis",), {"ar": .4, "fr": .6}, {"arab": 1}),
    "Jordan": ("Arab States", 2, ("Asia/Amman",), {"ar": .6, "en": .4}, {"arab": 1}),
    "Saudi Arabia": ("Arab States", 2, ("Asia/Riyadh",), {"ar": .7, "en": .3}, {"arab": 1}),
    "United Arab Emirates": ("Arab States", 2, ("Asia/Dubai",), {"ar": .4, "en": .6},
                             {"arab": .7, "south_asian": .3}),
    "Lebanon": ("Arab States", 1, ("Asia/Beirut",), {"ar": .4, "fr": .4, "en": .2}, {"arab": 1}),
    "Colombia": ("Americas", 5, ("America/Bogota",), {"es": .9, "en": .1}, {"hispanic": 1}),
    "Mexico": ("Americas", 4, ("America/Mexico_City", "America/Monterrey", "America/Tijuana"),
               {"es": .9, "en": .1}, {"hispanic": 1}),
    "Argentina": ("Americas", 3, ("America/Argentina/Buenos_Aires",
                                  "America/Argentina/Cordoba"), {"es": 1}, {"hispanic": 1}),
    "Peru": ("Americas", 2, ("America/Lima",), {"es": 1}, {"hispanic": 1}),
    "Chile": ("Americas", 2, ("America/Santiago",), {"es": .9, "en": .1}, {"hispanic": 1}),
    "Ecuador": ("Americas", 1, ("America/Guayaquil",), {"es": 1}, {"hispanic": 1}),
    "Costa Rica": ("Americas", 1, ("America/Costa_Rica",), {"es": 1}, {"hispanic": 1}),
    "Brazil": ("Americas", 3, ("America/Sao_Paulo", "America/Manaus", "America/Recife"),
               {"en": .6, "es": .4}, {"lusophone": 1}),
    "United States": ("Americas", 3, ("America/New_York", "America/Chicago", "America/Denver",
                                      "America/Los_Angeles"), {"en": .85, "es": .15},
                      {"anglophone_americas": .7, "hispanic": .3}),
    "Canada": ("Americas", 2, ("America/Toronto", "America/Vancouver", "America/Halifax"),
               {"en": .6, "fr": .4}, {"anglophone_americas": .5, "french": .5}),
    "Jamaica": ("Americas", 1, ("America/Jamaica",), {"en": 1}, {"anglophone_americas": 1}),
    "Trinidad and Tobago": ("Americas", 1, ("America/Port_of_Spain",), {"en": 1},
                            {"anglophone_americas": 1}),
    "Haiti": ("Americas", 1, ("America/Port-au-Prince",), {"fr": 1}, {"haitian": 1}),
    "France": ("Europe", 3, ("Europe/Paris",), {"fr": .9, "en": .1}, {"french": 1}),
    "Switzerland": ("Europe", 2, ("Europe/Zurich",), {"fr": .5, "en": .5},
                    {"french": .6, "central_european": .4}),
    "Belgium": ("Europe", 2, ("Europe/Brussels",), {"fr": .7, "en": .3},
                {"french": .6, "central_european": .4}),
    "Spain": ("Europe", 2, ("Europe/Madrid", "Atlantic/Canary"), {"es": .9, "en": .1},
              {"hispanic": 1}),
    "Italy": ("Europe", 2, ("Europe/Rome",), {"en": 1}, {"italian": 1}),
    "Poland": ("Europe", 2, ("Europe/Warsaw",), {"en": 1}, {"polish": 1}),
    "Lithuania": ("Europe", 1, ("Europe/Vilnius",), {"en": .8, "ru": .2}, {"baltic": 1}),
    "Czech Republic": ("Europe", 1, ("Europe/Prague",), {"en": 1}, {"central_european": 1}),
    "Netherlands": ("Europe", 1, ("Europe/Amsterdam",), {"en": 1}, {"central_european": 1}),
    "North Macedonia": ("Europe", 1, ("Europe/Skopje",), {"en": 1}, {"central_european": 1}),
    "Russian Federation": ("CIS", 3, ("Europe/Moscow", "Asia/Yekaterinburg",
                                      "Asia/Novosibirsk", "Asia/Vladivostok"),
                           {"ru": .9, "en": .1}, {"russian": 1}),
    "Kazakhstan": ("CIS", 2, ("Asia/Almaty",), {"ru": .8, "en": .2}, {"central_asian": 1}),
    "Uzbekistan": ("CIS", 1, ("Asia/Tashkent",), {"ru": .7, "en": .3}, {"central_asian": 1}),
    "Kyrgyzstan": ("CIS", 1, ("Asia/Bishkek",), {"ru": .8, "en": .2}, {"central_asian": 1}),
    "Ukraine": ("CIS", 1, ("Europe/Kyiv",), {"en": 1}, {"ukrainian": 1}),
    "China": ("Asia-Pacific", 4, ("Asia/Shanghai",), {"zh": .8, "en": .2}, {"chinese": 1}),
    "Republic of Korea": ("Asia-Pacific", 1, ("Asia/Seoul",), {"en": 1}, {"korean": 1}),
    "Malaysia": ("Asia-Pacific", 2, ("Asia/Kuala_Lumpur",), {"en": .9, "zh": .1},
                 {"southeast_asian": 1}),
    "Indonesia": ("Asia-Pacific", 2, ("Asia/Jakarta", "Asia/Makassar"), {"en": 1},
                  {"southeast_asian": 1}),
    "Thailand": ("Asia-Pacific", 1, ("Asia/Bangkok",), {"en": 1}, {"southeast_asian": 1}),
    "Viet Nam": ("Asia-Pacific", 1, ("Asia/Ho_Chi_Minh",), {"en": .8, "fr": .2},
                 {"southeast_asian": 1}),
    "Philippines": ("Asia-Pacific", 2, ("Asia/Manila",), {"en": 1}, {"filipino": 1}),
    "India": ("Asia-Pacific", 4, ("Asia/Kolkata",), {"en": 1}, {"south_asian": 1}),
    "Bangladesh": ("Asia-Pacific", 1, ("Asia/Dhaka",), {"en": 1}, {"south_asian": 1}),
    "Sri Lanka": ("Asia-Pacific", 1, ("Asia/Colombo",), {"en": 1}, {"south_asian": 1}),
    "Nepal": ("Asia-Pacific", 1, ("Asia/Kathmandu",), {"en": 1}, {"south_asian": 1}),
    "Fiji": ("Asia-Pacific", 1, ("Pacific/Fiji",), {"en": 1}, {"pacific": 1}),
    "Samoa": ("Asia-Pacific", 1, ("Pacific/Apia",), {"en": 1}, {"pacific": 1}),
}


def course_topics(path: Path = HERE / "courses.csv") -> list[str]:
    """The distinct topics of the demo catalogue, sorted."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        found = {t.strip() for row in csv.DictReader(fh) for t in row["topics"].split(";")}
    return sorted(t for t in found if t)


@functools.cache  # a few hundred distinct names, a million calls for a benchmark
def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum() or c == "-")


Weighted = tuple[list[str], list[float]]  # choices and their cumulative weights


def _cumulative(weights: dict[str, float]) -> Weighted:
    # What `choices(weights=...)` computes on every call, computed once.
    return list(weights), list(itertools.accumulate(weights.values()))


def _weighted(rng: random.Random, weighted: Weighted) -> str:
    """`rng.choices(items, weights)[0]`: the same draw (one `random()`, bisected into the
    cumulative weights, as `choices` does it), without building a list per call."""
    items, cumulative = weighted
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1], 0, len(items) - 1)]


def _person(rng: random.Random, culture: str) -> tuple[str, str, str]:
    """(display name, latin given, latin family)."""
    givens, families, family_first, native_share, gendered = CULTURES[culture]
    given_latin, given_native, gender = rng.choice(givens)
    family_latin, family_native = rng.choice(families)
    if gendered and gender == "f":
        family_latin, family_native = family_latin + "a", family_native + "а"
    if given_native and family_native and rng.random() < native_share:
        sep = "" if culture in ("chinese", "korean") else " "
        parts = (family_native, given_native) if family_first else (given_native, family_native)
        return sep.join(parts), given_latin, family_latin
    parts = (family_latin, given_latin) if family_first else (given_latin, family_latin)
    return " ".join(parts), given_latin, family_latin


def _local_part(rng: random.Random, given: str, family: str) -> str:
    g = _ascii(given.split()[0])
    fam = _ascii(family.replace(" ", ""))
    pattern = rng.randrange(5)
    if pattern == 0:
        return f"{g}.{fam}"
    if pattern == 1:
        return f"{g[0]}{fam}"
    if pattern == 2:
        return f"{g}_{fam}"
    if pattern == 3:
        return f"{fam}.{g}"
    return f"{g}{fam[0]}"


def generate(n: int, seed: int = 2027) -> Iterator[dict[str, str]]:
    """`n` participant rows (the CSV's columns as strings), the same for the same seed."""
    rng = random.Random(seed)
    topics = course_topics()
    countries = _cumulative({c: spec[1] for c, spec in COUNTRIES.items()})
    domains = _cumulative(dict(DOMAINS))
    # Per country: region, zones, then languages and cultures with cumulative weights.
    by_country: dict[str, tuple[str, tuple[str, ...], Weighted, Weighted]] = {
        c: (region, zones, _cumulative(langs), _cumulative(cultures))
        for c, (region, _w, zones, langs, cultures) in COUNTRIES.items()}
    other_regions = {r: [o for o in REGIONS if o != r] for r in REGIONS}
    consent_start, consent_days = date(2025, 1, 6), 640
    consent_dates = [(consent_start + timedelta(days=d)).isoformat() for d in range(consent_days)]
    seen: set[str] = set()
    for _ in range(n):
        country = _weighted(rng, countries)
        region, zones, langs, cultures = by_country[country]
        name, given, family = _person(rng, _weighted(rng, cultures))
        local_part = _local_part(rng, given, family)
        domain = _weighted(rng, domains)
        email = f"{local_part}@{domain}"
        suffix = 1
        while email in seen:
            suffix += 1
            email = f"{local_part}{suffix}@{domain}"
        seen.add(email)
        language = _weighted(rng, langs)

        picked: list[str] = []
        if rng.random() >= 0.25:
            picked = rng.sample(topics, rng.choice((1, 1, 2, 2, 3)))
            picked = [t.title() if rng.random() < 0.08 else t for t in picked]
        regions: list[str] = []
        if rng.random() >= 0.45:
            regions = [region]
            if rng.random() < 0.3:
                regions.append(rng.choice(other_regions[region]))
        languages: list[str] = []
        if rng.random() >= 0.4:
            languages = [language] + (["en"] if language != "en" and rng.random() < 0.6 else [])
        modes: list[str] = []
        if rng.random() >= 0.55:
            modes = rng.sample(MODES, rng.choice((1, 2)))
        consent = ""
        if rng.random() >= 0.12:
            consent = consent_dates[rng.randrange(consent_days)]
        yield {
            "email": email, "name": name, "language": language, "country": country,
            "timezone": rng.choice(zones), "topics": ";".join(picked),
            "regions": ";".join(regions), "languages": ";".join(languages),
            "modes": ";".join(modes), "frequency": "weekly" if rng.random() < 0.2 else "immediate",
            "consent": consent,
        }


def write_csv(path: Path | str, n: int, seed: int) -> None:
    """Write `n` rows to `path` ("-": standard output)."""
    if str(path) == "-":
        _write(sys.stdout, n, seed)
        return
    with open(path, "w", encoding="utf-8", newline="") as out:
        _write(out, n, seed)


def _write(out: TextIO, n: int, seed: int) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(generate(n, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=240, help="how many participants (240)")
    parser.add_argument("--seed", type=int, default=2027, help="random seed (2027)")
    parser.add_argument("-o", "--out", default=str(HERE / "participants.csv"),
                        help="output CSV, or - for stdout (demo/participants.csv)")
    args = parser.parse_args(argv)
    write_csv(args.out, args.n, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
