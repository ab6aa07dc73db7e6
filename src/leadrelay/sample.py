"""A realistic sample export, for the demo where the public data sets are absent.

It has the shape of the Olist marketing-funnel export (a file of
marketing-qualified leads and a file of closed deals) so that the `olist`
preset reads it, with the same kinds of flaws real exports have: leads with no
source, a literal "unknown" source, and a share of deals won weeks later.
"""

from __future__ import annotations

import csv
import hashlib
import random
from datetime import date, datetime, timedelta
from pathlib import Path

#: Sources and their weights, close to the Olist export's own mix.
SOURCES = (
    ("organic_search", 29),
    ("paid_search", 20),
    ("social", 17),
    ("unknown", 14),
    ("direct_traffic", 6),
    ("email", 6),
    ("referral", 4),
    ("other", 2),
    ("display", 1),
    ("", 1),
)
SEGMENTS = (
    "home_decor",
    "health_beauty",
    "car_accessories",
    "household_utilities",
    "construction_tools_house_garden",
    "audio_video_electronics",
    "computers",
    "pet",
    "sports",
    "food_supplement",
)
LEAD_TYPES = ("online_medium", "online_big", "industry", "offline", "online_small")

MQL_HEADER = ("mql_id", "first_contact_date", "landing_page_id", "origin")
DEALS_HEADER = (
    "mql_id",
    "seller_id",
    "sdr_id",
    "sr_id",
    "won_date",
    "business_segment",
    "lead_type",
    "lead_behaviour_profile",
    "has_company",
    "has_gtin",
    "average_stock",
    "business_type",
    "declared_product_catalog_size",
    "declared_monthly_revenue",
)


def _hex(rng: random.Random) -> str:
    return hashlib.md5(rng.getrandbits(64).to_bytes(8, "big")).hexdigest()


def write_olist_like(
    folder: Path,
    rows: int = 8000,
    seed: int = 7,
    first_day: date = date(2025, 6, 1),
    days: int = 365,
    won_share: float = 0.105,
) -> tuple[Path, Path]:
    """Write an MQL file and a closed-deals file into `folder`; return their paths.

    Rows are written as they are made, so a million-row file needs no more
    memory than a small one.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    mql_path = folder / "sample_marketing_qualified_leads.csv"
    deals_path = folder / "sample_closed_deals.csv"
    names = [name for name, _ in SOURCES]
    weights = [weight for _, weight in SOURCES]
    landing_pages = [_hex(rng) for _ in range(400)]
    reps = [_hex(rng) for _ in range(30)]

    with (
        mql_path.open("w", newline="", encoding="utf-8") as mql_file,
        deals_path.open("w", newline="", encoding="utf-8") as deals_file,
    ):
        mql = csv.writer(mql_file)
        deals = csv.writer(deals_file)
        mql.writerow(MQL_HEADER)
        deals.writerow(DEALS_HEADER)
        for i in range(rows):
            lead_id = _hex(rng)
            # More leads on weekdays, and a slow rise over the year.
            day = first_day + timedelta(days=int(days * (rng.random() ** 0.8)))
            if day.weekday() >= 5 and rng.random() < 0.5:
                day -= timedelta(days=day.weekday() - 4)
            source = rng.choices(names, weights)[0]
            mql.writerow((lead_id, day.isoformat(), rng.choice(landing_pages), source))
            if rng.random() < won_share:
                won = datetime.combine(day, datetime.min.time()) + timedelta(
                    days=rng.randint(1, 60), seconds=rng.randint(0, 86399)
                )
                deals.writerow(
                    (
                        lead_id,
                        _hex(rng),
                        rng.choice(reps),
                        rng.choice(reps),
                        won.strftime("%Y-%m-%d %H:%M:%S"),
                        rng.choice(SEGMENTS),
                        rng.choice(LEAD_TYPES),
                        rng.choice(("cat", "eagle", "wolf", "shark", "")),
                        "",
                        "",
                        "",
                        rng.choice(("reseller", "manufacturer")),
                        "",
                        f"{rng.choice((0, 0, 50000, 100000)):.1f}",
                    )
                )
            if i and i % 100_000 == 0:
                mql_file.flush()

    return mql_path, deals_path
