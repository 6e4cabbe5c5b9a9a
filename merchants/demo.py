"""Demo data of the 金豆联盟: a dozen merchants of 五华金豆 (昆明五华) and 丰行侠 (成都新都)
with offers of every kind, till users ``merchant01`` … ``merchant12``, settlement rates, and a
few vouchers taken and redeemed. Builds on ``volunteers.demo``; loading twice adds nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

import ledger
from ledger.clock import now
from volunteers import users
from volunteers.demo import DEMO_PASSWORD

from . import offers, settlement, vouchers

# name, programme, area, address, category, star, offers:
#   (title, kind, price_points, stock, per_person_limit, description)
MERCHANTS = (
    ("云海肴·翠湖店", "wuhua-jindou", "cuihu", "五华区翠湖南路 68 号", "餐饮", True, (
        ("汽锅鸡套餐立减 20 元", "discount", 200, 50, 1, "堂食使用，每桌限一张"),
        ("云南小粒咖啡一杯", "goods", 60, 100, 2, None),
    )),
    ("太平洋咖啡·南屏街店", "wuhua-jindou", "huashan", "五华区南屏街 9 号", "咖啡", True, (
        ("中杯拿铁兑换券", "goods", 120, 80, 2, "任意中杯拿铁一杯"),
    )),
    ("华夏银行昆明五华支行", "wuhua-jindou", "huashan", "五华区东风西路 156 号", "金融", False, (
        ("定制志愿者保温杯", "goods", 300, 30, 1, "凭券到网点领取，送完即止"),
    )),
    ("慧农时邦生鲜超市", "wuhua-jindou", "yunda", "五华区一二一大街 298 号", "超市", False, (
        ("满 50 元减 10 元", "discount", 100, 200, 3, "生鲜区通用"),
        ("有机蔬菜礼包", "goods", 250, 40, 1, None),
    )),
    ("昆明公交五华线路", "wuhua-jindou", "wuhua", "五华区公交服务中心", "公共交通", True, (
        ("公交日票", "transport", 50, 500, 4, "五华区内公交线路当日不限次"),
    )),
    ("五华区政务服务中心", "wuhua-jindou", "wuhua", "五华区人民中路 5 号", "政务服务", True, (
        ("政务服务绿色通道", "green_channel", 10, 1000, 2, "凭券优先叫号办理"),
    )),
    ("大丰老茶馆", "fengxingxia", "sanyuan", "新都区蜀龙大道中段 88 号", "茶饮", True, (
        ("盖碗茶一杯", "goods", 20, 100, 2, "骑手歇脚，茶水免费续"),
    )),
    ("新都桂湖面馆", "fengxingxia", "nanfeng", "新都区大丰南丰路 21 号", "餐饮", False, (
        ("牛肉面八折", "discount", 15, 150, 3, None),
    )),
    ("丰行侠电动车维修站", "fengxingxia", "gaoyuan", "新都区高院路 6 号", "维修", True, (
        ("电动车免费检修一次", "service", 40, 60, 1, "含刹车、灯光、胎压检查"),
        ("电瓶充电 5 次", "service", 25, 100, 2, None),
    )),
    ("大丰社区卫生服务中心", "fengxingxia", "dafeng", "新都区大丰街道北街 12 号", "医疗", False, (
        ("免费体检套餐", "service", 80, 30, 1, "血压、血糖、视力检查"),
    )),
    ("新都区大丰便民服务中心", "fengxingxia", "dafeng", "新都区新都大道 8 号", "政务服务", False, (
        ("政务服务绿色通道", "green_channel", 5, 1000, 2, "凭券优先办理"),
    )),
    ("蓉城骑士驿站", "fengxingxia", "dafeng", "新都区大丰大道 150 号", "便民服务", False, (
        ("骑手雨衣一件", "goods", 60, 40, 1, None),
        ("地铁单程票", "transport", 10, 200, 4, None),
    )),
)
# Fen the programme pays per accepted point: 五华金豆 counts 10 points a yuan, 丰行侠 one.
RATES = {"wuhua-jindou": 10, "fengxingxia": 100}
OFFER_DAYS = 120
VOUCHER_DAYS = 30
# (volunteer, merchant index, offer index, redeem it)
VOUCHERS = ((("rider01", 6, 0, True), ("rider01", 7, 0, False), ("rider02", 8, 0, True),
             ("volunteer01", 0, 1, True), ("volunteer01", 4, 0, False),
             ("volunteer02", 5, 0, False)))


def till_username(number: int) -> str:
    return f"merchant{number:02d}"


def accounts() -> list[tuple[str, str, str]]:
    """Which till account runs which shop: (user name, role, shop, programme and area)."""
    return [(till_username(number), "merchant", f"{name} ({programme}, {area})")
            for number, (name, programme, area, *_rest) in enumerate(MERCHANTS, start=1)]


def load(session: Session) -> list[tuple[str, str, str]]:
    """The merchants once; answers the demo accounts to print. The caller commits."""
    listing = accounts()
    if users.find_user(session, "merchant01") is not None:
        return listing
    admin = users.find_user(session, "admin")
    if admin is None:
        return []
    until = now() + timedelta(days=OFFER_DAYS)
    merchants = []
    for number, (name, programme, area, address, category, star, items) in enumerate(
            MERCHANTS, start=1):
        staff = users.create_user(session, till_username(number), DEMO_PASSWORD,
                                  role="merchant", area_code=area,
                                  display_name=f"{name} 店员")
        merchant = offers.create_merchant(
            session, admin, name=name, programme_code=programme, area_code=area,
            staff_usernames=[staff.username], address=address, category=category, star=star)
        merchants.append((merchant, staff, [
            offers.create_offer(session, staff, merchant.id, title=title, kind=kind,
                                price_points=price, stock=stock, per_person_limit=limit,
                                description=description, valid_until=until,
                                voucher_valid_days=VOUCHER_DAYS)
            for title, kind, price, stock, limit, description in items]))
    for programme, fen_per_point in RATES.items():
        settlement.set_rate(session, admin, programme, fen_per_point)
    for username, merchant_index, offer_index, redeem in VOUCHERS:
        merchant, staff, shop_offers = merchants[merchant_index]
        person = users.find_user(session, username)
        offer = shop_offers[offer_index]
        if person is None or ledger.balance(session, person.wallet_code).available < \
                offer.price_points:
            continue
        voucher, _ = vouchers.issue_voucher(session, person, offer.id,
                                            idempotency_key=f"demo:voucher:{username}:"
                                            f"{merchant_index}:{offer_index}")
        if redeem:
            vouchers.redeem_voucher(session, staff, voucher.short_code, key=b"demo",
                                    idempotency_key=f"demo:redeem:{voucher.id}")
    return listing
