"""Write the bundled demo catalog: an Indonesian minimarket of about 200 items.

    $ .venv/bin/python scripts/make_demo_catalog.py        # writes appliance/data/demo_catalog.csv
    $ .venv/bin/python scripts/make_demo_catalog.py --check  # exit 1 if the file is out of date

Deterministic: the same script always writes the same bytes. Brand names are real so that the
demo looks like a real shop; every barcode is MADE UP: EAN-13s with Indonesia's GS1 prefix 899
laid out as 899 1 CCC IIIII + check digit (CCC the category, IIIII the item), cartons as GTIN-14
(indicator 1 before the unit's body), and two imported snacks with made-up UPC-A codes. Check
digits come from `retail.barcodes.check_digit`.

Tax follows Indonesian rules: most goods pay PPN (12% on a DPP of 11/12); basic necessities are
exempt ("FREE": rice, sugar, salt, eggs, fresh meat and fish, fresh vegetables and fruit);
cigarettes carry excise but stay on ordinary PPN here; two imported perfumes are luxury ("LUX").
Fresh produce, meat and bulk goods are sold by weight (unit kg, price per kg, a PLU for the
scale's labels); their stock is written in grams ("25000 g") so that the file reads the same in
every locale. Prices and counts are plain digits for the same reason.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retail.barcodes import check_digit

OUT = Path(__file__).resolve().parents[1] / "appliance" / "data" / "demo_catalog.csv"

# (sku prefix, category, [(name, price, tax, pack)]) — pack: (qty, "ean"|"itf") or None.
# Items sold by the piece.
EACH: list[tuple[str, str, list[tuple]]] = [
    (
        "MIE",
        "Mi Instan",
        [
            ("Indomie Goreng 85g", 3500, "PPN", (40, "itf")),
            ("Indomie Goreng Pedas 85g", 3500, "PPN", None),
            ("Indomie Goreng Rendang 91g", 3700, "PPN", None),
            ("Indomie Goreng Aceh 90g", 3700, "PPN", None),
            ("Indomie Soto Mie 70g", 3200, "PPN", (40, "itf")),
            ("Indomie Ayam Bawang 69g", 3200, "PPN", (40, "itf")),
            ("Indomie Kari Ayam 72g", 3400, "PPN", None),
            ("Indomie Ayam Spesial 68g", 3200, "PPN", None),
            ("Mie Sedaap Goreng 90g", 3300, "PPN", (40, "itf")),
            ("Mie Sedaap Soto 75g", 3100, "PPN", None),
            ("Mie Sedaap Kari Spesial 72g", 3300, "PPN", None),
            ("Sarimi Isi 2 Ayam Bawang 115g", 4200, "PPN", None),
            ("Supermi Ayam Bawang 70g", 3000, "PPN", None),
            ("Pop Mie Rasa Ayam 75g", 5500, "PPN", None),
            ("Pop Mie Rasa Baso 75g", 5500, "PPN", None),
            ("Mie Gelas Rasa Ayam 28g", 1500, "PPN", None),
        ],
    ),
    (
        "MNM",
        "Minuman",
        [
            ("Aqua Air Mineral 600ml", 3500, "PPN", (24, "itf")),
            ("Aqua Air Mineral 1500ml", 6500, "PPN", (12, "itf")),
            ("Le Minerale 600ml", 3500, "PPN", (24, "itf")),
            ("Le Minerale 1500ml", 6000, "PPN", None),
            ("Club Air Mineral 600ml", 3000, "PPN", None),
            ("Teh Botol Sosro 450ml", 5000, "PPN", None),
            ("Teh Botol Sosro Kotak 250ml", 3500, "PPN", (24, "itf")),
            ("Teh Pucuk Harum 350ml", 4000, "PPN", (24, "itf")),
            ("Fruit Tea Sosro Apel 500ml", 5500, "PPN", None),
            ("Frestea Melati 500ml", 5500, "PPN", None),
            ("Coca-Cola 390ml", 6000, "PPN", None),
            ("Coca-Cola 1,5L", 15500, "PPN", None),
            ("Sprite 390ml", 6000, "PPN", None),
            ("Fanta Stroberi 390ml", 6000, "PPN", None),
            ("Pocari Sweat 500ml", 8000, "PPN", None),
            ("Mizone Lychee Lemon 500ml", 6000, "PPN", None),
            ("Good Day Cappuccino Botol 250ml", 7500, "PPN", None),
            ("Nescafe Original Kaleng 240ml", 8000, "PPN", None),
            ("Kopiko 78C Botol 240ml", 7000, "PPN", None),
            ("Floridina Jeruk 350ml", 3500, "PPN", None),
            ("Adem Sari Chingku 350ml", 7500, "PPN", None),
            ("Kratingdaeng 150ml", 6000, "PPN", None),
            ("Hydro Coco 250ml", 7500, "PPN", None),
            ("Larutan Penyegar Cap Kaki Tiga 500ml", 7000, "PPN", None),
            ("Yakult Isi 5", 10500, "PPN", None),
        ],
    ),
    (
        "KOPI",
        "Kopi & Teh",
        [
            ("Kapal Api Special Mix 25g", 1500, "PPN", (10, "ean")),
            ("Kapal Api Kopi Bubuk 165g", 14500, "PPN", None),
            ("Good Day Cappuccino Sachet 25g", 2000, "PPN", (10, "ean")),
            ("Indocafe Coffeemix 20g", 1500, "PPN", (10, "ean")),
            ("Luwak White Koffie 20g", 1500, "PPN", (10, "ean")),
            ("Torabika Cappuccino 25g", 2000, "PPN", None),
            ("Nescafe Classic 100g", 32000, "PPN", None),
            ("Sariwangi Teh Celup Isi 25", 7000, "PPN", None),
            ("Teh Sosro Celup Isi 30", 8500, "PPN", None),
            ("Teh Tong Tji Celup Isi 25", 6500, "PPN", None),
        ],
    ),
    (
        "SMB",
        "Sembako",
        [
            ("Beras Ramos Setra 5kg", 78000, "FREE", None),
            ("Beras Pandan Wangi 5kg", 85000, "FREE", None),
            ("Beras Rojolele 10kg", 150000, "FREE", None),
            ("Gula Pasir Gulaku 1kg", 18500, "FREE", None),
            ("Gula Pasir Rose Brand 1kg", 17500, "FREE", None),
            ("Garam Dapur Cap Kapal 250g", 3000, "FREE", None),
            ("Telur Ayam Negeri Isi 10", 28000, "FREE", None),
            ("Minyak Goreng Bimoli 2L", 40000, "PPN", None),
            ("Minyak Goreng Sania 1L", 21000, "PPN", None),
            ("Minyakita 1L", 15700, "PPN", (12, "itf")),
            ("Tepung Terigu Segitiga Biru 1kg", 13500, "PPN", None),
            ("Tepung Beras Rose Brand 500g", 8000, "PPN", None),
            ("Blue Band Serbaguna 200g", 10500, "PPN", None),
            ("Santan Kara 65ml", 3500, "PPN", None),
        ],
    ),
    (
        "BMB",
        "Bumbu Dapur",
        [
            ("Kecap Manis Bango 220ml", 11500, "PPN", None),
            ("Kecap Manis ABC 135ml", 6500, "PPN", None),
            ("Saus Sambal ABC 335ml", 12500, "PPN", None),
            ("Saus Tomat Del Monte 340ml", 11000, "PPN", None),
            ("Masako Rasa Ayam 100g", 5500, "PPN", None),
            ("Royco Rasa Sapi 100g", 5000, "PPN", None),
            ("Ajinomoto Penyedap 100g", 6500, "PPN", None),
            ("Sasa Tepung Bumbu 80g", 3500, "PPN", None),
            ("Bumbu Racik Nasi Goreng", 2500, "PPN", None),
            ("Terasi Udang ABC 4g", 1500, "PPN", None),
            ("Ladaku Merica Bubuk 4g", 1000, "PPN", (12, "ean")),
            ("Royco Rasa Ayam 100g", 5000, "PPN", None),
        ],
    ),
    (
        "SNK",
        "Makanan Ringan",
        [
            ("Chitato Sapi Panggang 68g", 11000, "PPN", None),
            ("Chitato Ayam Bumbu 68g", 11000, "PPN", None),
            ("Lay's Rumput Laut 68g", 11000, "PPN", None),
            ("Qtela Singkong Balado 60g", 8000, "PPN", None),
            ("Taro Net Seaweed 65g", 8500, "PPN", None),
            ("Cheetos Jagung Bakar 30g", 5000, "PPN", None),
            ("Piattos Sapi Panggang 75g", 9500, "PPN", None),
            ("Potabee BBQ 68g", 10000, "PPN", None),
            ("Oreo Vanila 133g", 9500, "PPN", None),
            ("Roma Kelapa 300g", 10500, "PPN", None),
            ("Roma Malkist Crackers 105g", 8500, "PPN", None),
            ("Biskuat Cokelat 134g", 6000, "PPN", None),
            ("Good Time Chocochips 72g", 7500, "PPN", None),
            ("Tango Wafer Cokelat 176g", 11000, "PPN", None),
            ("Beng-Beng 20g", 2500, "PPN", (20, "ean")),
            ("SilverQueen Almond 58g", 17500, "PPN", None),
            ("Garuda Kacang Kulit 100g", 10500, "PPN", None),
            ("Dua Kelinci Kacang Sukro 100g", 8500, "PPN", None),
            ("Mentos Mint Roll", 3000, "PPN", None),
            ("Kopiko Permen Kopi 150g", 12000, "PPN", None),
        ],
    ),
    (
        "SUSU",
        "Susu & Olahan",
        [
            ("Ultra Milk Full Cream 1L", 19500, "PPN", None),
            ("Ultra Milk Cokelat 250ml", 6500, "PPN", (24, "itf")),
            ("Indomilk Kotak Cokelat 190ml", 5000, "PPN", None),
            ("Frisian Flag Kental Manis 370g", 12500, "PPN", None),
            ("Bear Brand 189ml", 10500, "PPN", None),
            ("Dancow Full Cream 800g", 115000, "PPN", None),
            ("Cimory Yogurt Drink Stroberi 250ml", 9500, "PPN", None),
            ("Kraft Keju Cheddar 165g", 23000, "PPN", None),
            ("Greenfields Full Cream 1L", 24000, "PPN", None),
            ("Milo Kotak 180ml", 6000, "PPN", None),
        ],
    ),
    (
        "ROTI",
        "Roti & Kue",
        [
            ("Sari Roti Tawar Spesial", 20000, "PPN", None),
            ("Sari Roti Sandwich Cokelat", 6000, "PPN", None),
            ("Sari Roti Sandwich Keju", 6000, "PPN", None),
            ("Sari Roti Sobek Cokelat Keju", 17000, "PPN", None),
            ("Roti Kasur Susu", 15000, "PPN", None),
        ],
    ),
    (
        "DIRI",
        "Perawatan Diri",
        [
            ("Lifebuoy Sabun Batang 75g", 4500, "PPN", None),
            ("Lux Sabun Batang 75g", 4500, "PPN", None),
            ("Dettol Sabun Cair 410ml", 38000, "PPN", None),
            ("Pepsodent Pasta Gigi 190g", 14500, "PPN", None),
            ("Close Up Pasta Gigi 160g", 14500, "PPN", None),
            ("Formula Sikat Gigi", 4500, "PPN", None),
            ("Sunsilk Sampo 170ml", 23000, "PPN", None),
            ("Pantene Sampo 170ml", 28000, "PPN", None),
            ("Clear Men Sampo 160ml", 30000, "PPN", None),
            ("Head & Shoulders 170ml", 30000, "PPN", None),
            ("Rexona Roll On 45ml", 17500, "PPN", None),
            ("Citra Hand & Body Lotion 230ml", 22000, "PPN", None),
            ("Pond's Facial Foam 100g", 28000, "PPN", None),
            ("Charm Pembalut 8 Pad", 10500, "PPN", None),
            ("Laurier Pembalut 20 Pad", 16000, "PPN", None),
            ("Gillette Goal II Pisau Cukur", 5000, "PPN", None),
            ("Eau de Parfum Impor 50ml", 450000, "LUX", None),
            ("Eau de Toilette Impor Pria 100ml", 650000, "LUX", None),
        ],
    ),
    (
        "RMH",
        "Kebersihan Rumah",
        [
            ("Rinso Anti Noda 770g", 25000, "PPN", None),
            ("So Klin Liquid 800ml", 17500, "PPN", None),
            ("Daia Deterjen 850g", 17000, "PPN", None),
            ("Attack Easy 800g", 18500, "PPN", None),
            ("Sunlight Jeruk Nipis 755ml", 15500, "PPN", None),
            ("Mama Lemon 780ml", 14500, "PPN", None),
            ("Molto Pewangi 720ml", 15000, "PPN", None),
            ("Wipol Karbol 780ml", 16500, "PPN", None),
            ("Super Pell Lantai 770ml", 14500, "PPN", None),
            ("Baygon Aerosol 600ml", 38000, "PPN", None),
            ("Baygon Bakar 10 Spiral", 5000, "PPN", None),
            ("Tisu Paseo 250 Lembar", 17500, "PPN", None),
            ("Tisu Nice 180 Lembar", 10500, "PPN", None),
            ("Kantong Plastik Belanja", 200, "PPN", None),
        ],
    ),
    (
        "RKK",
        "Rokok",
        [
            ("Gudang Garam Surya 12", 31500, "PPN", (10, "ean")),
            ("Sampoerna Mild 16", 35000, "PPN", (10, "ean")),
            ("Djarum Super 12", 27500, "PPN", (10, "ean")),
            ("Marlboro Red 20", 42000, "PPN", None),
            ("Dji Sam Soe Kretek 12", 22000, "PPN", None),
            ("LA Lights 16", 31000, "PPN", None),
            ("Gudang Garam Filter International 12", 26000, "PPN", None),
            ("Sampoerna Kretek 12", 19000, "PPN", None),
        ],
    ),
    (
        "BAYI",
        "Bayi",
        [
            ("MamyPoko Pants M Isi 20", 75000, "PPN", None),
            ("Sweety Silver Pants L Isi 26", 82000, "PPN", None),
            ("Cussons Baby Powder 100g", 10000, "PPN", None),
            ("Zwitsal Baby Shampoo 100ml", 14000, "PPN", None),
            ("SGM Eksplor 1+ Vanila 400g", 48000, "PPN", None),
        ],
    ),
    (
        "OBAT",
        "Obat & Kesehatan",
        [
            ("Tolak Angin Cair 15ml", 4500, "PPN", (12, "ean")),
            ("Antangin JRG 15ml", 4000, "PPN", None),
            ("Panadol Biru 10 Tablet", 13000, "PPN", None),
            ("Bodrex 4 Tablet", 2500, "PPN", None),
            ("Betadine Antiseptik 15ml", 14500, "PPN", None),
            ("Hansaplast Plester Isi 10", 6000, "PPN", None),
            ("Minyak Kayu Putih Cap Lang 60ml", 25000, "PPN", None),
        ],
    ),
    (
        "BKU",
        "Makanan Beku",
        [
            ("Fiesta Chicken Nugget 500g", 48000, "PPN", None),
            ("So Good Sosis Ayam 375g", 30000, "PPN", None),
            ("Champ Nugget Ayam 250g", 22000, "PPN", None),
            ("Bernardi Bakso Sapi 500g", 45000, "PPN", None),
            ("Wall's Paddle Pop Cokelat", 5000, "PPN", None),
            ("Aice Mochi Cokelat", 3000, "PPN", None),
        ],
    ),
    (
        "LAIN",
        "Lain-lain",
        [
            ("Pulpen Standard AE7", 2500, "PPN", (12, "ean")),
            ("Buku Tulis Sidu 38 Lembar", 4500, "PPN", None),
            ("Baterai ABC AA Isi 2", 8000, "PPN", None),
            ("Korek Api Gas Tokai", 3000, "PPN", None),
        ],
    ),
]

# Imported goods with (made-up) UPC-A codes: number system 0, manufacturer, item.
UPCA: list[tuple[str, str, int, str]] = [
    ("SNK", "Pringles Original 107g", 28500, "03800013841"),
    ("SNK", "Pringles Sour Cream & Onion 107g", 28500, "03800013842"),
]

# Fresh produce sold by the piece (a bunch of greens): exempt, no barcode but a shelf code.
LOOSE: list[tuple[str, str, str, int]] = [
    ("SAYUR-BAYAM", "Sayur Bayam Ikat", "Sayur & Buah", 4000),
    ("SAYUR-KANGKUNG", "Kangkung Ikat", "Sayur & Buah", 3500),
    ("SAYUR-SAWI", "Sawi Hijau Ikat", "Sayur & Buah", 5000),
]

# Sold by weight: (sku, name, category, price per kg, tax, plu). The scale prints EAN-13
# labels (prefix 20/21 weight, 22/23 price) carrying the PLU.
WEIGHED: list[tuple[str, str, str, int, str, int]] = [
    ("TIMBANG-BWM", "Bawang Merah", "Sayur & Buah", 40000, "FREE", 101),
    ("TIMBANG-BWP", "Bawang Putih", "Sayur & Buah", 38000, "FREE", 102),
    ("TIMBANG-CMK", "Cabai Merah Keriting", "Sayur & Buah", 50000, "FREE", 103),
    ("TIMBANG-CRW", "Cabai Rawit Merah", "Sayur & Buah", 60000, "FREE", 104),
    ("TIMBANG-TMT", "Tomat", "Sayur & Buah", 15000, "FREE", 105),
    ("TIMBANG-KTG", "Kentang", "Sayur & Buah", 18000, "FREE", 106),
    ("TIMBANG-WRT", "Wortel", "Sayur & Buah", 14000, "FREE", 107),
    ("TIMBANG-KOL", "Kol", "Sayur & Buah", 10000, "FREE", 108),
    ("TIMBANG-JHE", "Jahe", "Sayur & Buah", 30000, "FREE", 109),
    ("TIMBANG-BCS", "Buncis", "Sayur & Buah", 16000, "FREE", 110),
    ("TIMBANG-JRK", "Jeruk Medan", "Sayur & Buah", 25000, "FREE", 111),
    ("TIMBANG-APL", "Apel Fuji", "Sayur & Buah", 45000, "FREE", 112),
    ("TIMBANG-PSG", "Pisang Cavendish", "Sayur & Buah", 22000, "FREE", 113),
    ("TIMBANG-SMK", "Semangka", "Sayur & Buah", 9000, "FREE", 114),
    ("TIMBANG-SAPI", "Daging Sapi Has Dalam", "Daging & Ikan", 140000, "FREE", 201),
    ("TIMBANG-AYAM", "Daging Ayam Potong", "Daging & Ikan", 38000, "FREE", 202),
    ("TIMBANG-FILET", "Fillet Dada Ayam", "Daging & Ikan", 55000, "FREE", 203),
    ("TIMBANG-KBG", "Ikan Kembung", "Daging & Ikan", 45000, "FREE", 204),
    ("TIMBANG-UDG", "Udang Vaname", "Daging & Ikan", 95000, "FREE", 205),
    ("TIMBANG-TLR", "Telur Ayam Negeri Curah", "Sembako", 28000, "FREE", 301),
    ("TIMBANG-BRS", "Beras Curah Medium", "Sembako", 13000, "FREE", 302),
    ("TIMBANG-GLA", "Gula Pasir Curah", "Sembako", 17000, "FREE", 303),
    ("TIMBANG-METE", "Kacang Mete Curah", "Makanan Ringan", 160000, "PPN", 401),
    ("TIMBANG-NSTR", "Kue Nastar Curah", "Roti & Kue", 120000, "PPN", 402),
]

COLUMNS = ["sku", "name", "price", "barcode", "tax", "category", "unit", "stock", "plu"]


def ean13(body12: str) -> str:
    return body12 + str(check_digit(body12))


def rows() -> list[list[str]]:
    rng = random.Random(20260101)
    out: list[list[str]] = []
    for cat_no, (prefix, category, items) in enumerate(EACH, start=1):
        for item_no, (name, price, tax, pack) in enumerate(items, start=1):
            body = f"8991{cat_no:03d}{10000 + item_no:05d}"
            codes = [ean13(body)]
            if pack is not None:
                qty, kind = pack
                if kind == "itf":
                    # A carton's GTIN-14: indicator 1 before the unit's body, new check digit.
                    carton = "1" + body
                    codes.append(f"{carton}{check_digit(carton)}*{qty}")
                else:
                    # A box or slop with its own EAN-13 from the same company range.
                    codes.append(f"{ean13(f'8991{cat_no:03d}{50000 + item_no:05d}')}*{qty}")
            sku = "BERAS-5" if name == "Beras Ramos Setra 5kg" else f"{prefix}-{item_no:03d}"
            stock = rng.choice([0, 6, 12, 18, 24, 36, 48, 60, 80, 120, 200])
            out.append(
                [sku, name, str(price), "|".join(codes), tax, category, "each", str(stock), ""]
            )
    for n, (prefix, name, price, body11) in enumerate(UPCA, start=1):
        out.append(
            [
                f"{prefix}-IMP{n}",
                name,
                str(price),
                body11 + str(check_digit(body11)),
                "PPN",
                "Makanan Ringan",
                "each",
                str(rng.choice([6, 12, 24])),
                "",
            ]
        )
    for sku, name, category, price in LOOSE:
        out.append(
            [sku, name, str(price), sku, "FREE", category, "each", str(rng.randint(5, 30)), ""]
        )
    for sku, name, category, price, tax, plu in WEIGHED:
        grams = rng.randint(5, 60) * 500
        out.append([sku, name, str(price), "", tax, category, "kg", f"{grams} g", str(plu)])
    return out


def render() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows())
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run scripts/make_demo_catalog.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.splitlines()) - 1} products)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
