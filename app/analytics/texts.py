"""The analytics charts' texts (titles, series, CSV headers) and the range errors in each card
language (English is the fallback); the page's own texts are in the dashboard's catalog."""

from __future__ import annotations

from typing import Any

from app.wallet.i18n import DEFAULT_LANGUAGE, LANGUAGES, normalize_language

TEXTS: dict[str, dict[str, str]] = {
    "day": {"en": "Day", "th": "วันที่", "zh-Hant": "日期", "vi": "Ngày", "ms": "Hari"},
    "no_data": {"en": "No data in this range", "th": "ไม่มีข้อมูลในช่วงนี้",
                "zh-Hant": "此期間沒有資料", "vi": "Không có dữ liệu trong khoảng này",
                "ms": "Tiada data dalam julat ini"},
    "bad_date": {"en": "Use a date such as 2026-01-31.",
                 "th": "ใช้วันที่ในรูปแบบ 2026-01-31", "zh-Hant": "請使用如 2026-01-31 的日期。",
                 "vi": "Hãy dùng ngày dạng 2026-01-31.",
                 "ms": "Gunakan tarikh seperti 2026-01-31."},
    "bad_range": {"en": "The range must run forward and span at most {days} days.",
                  "th": "ช่วงวันที่ต้องเรียงไปข้างหน้าและยาวไม่เกิน {days} วัน",
                  "zh-Hant": "結束日須在起始日之後，且最多 {days} 天。",
                  "vi": "Khoảng ngày phải theo chiều tiến và dài tối đa {days} ngày.",
                  "ms": "Julat mesti bergerak ke hadapan dan paling lama {days} hari."},
    "out_of_range": {"en": "Choose days between {first} and {last}.",
                     "th": "เลือกวันที่ระหว่าง {first} ถึง {last}",
                     "zh-Hant": "請選擇 {first} 至 {last} 之間的日期。",
                     "vi": "Hãy chọn ngày trong khoảng {first} đến {last}.",
                     "ms": "Pilih tarikh antara {first} dan {last}."},
    # chart titles
    "signups": {"en": "Signups per day by channel", "th": "สมาชิกใหม่ต่อวันตามช่องทาง",
                "zh-Hant": "各管道每日新會員", "vi": "Đăng ký mỗi ngày theo kênh",
                "ms": "Pendaftaran sehari mengikut saluran"},
    "locations": {"en": "Poster signups by location", "th": "สมัครจากโปสเตอร์ตามสาขา",
                  "zh-Hant": "各門市海報註冊", "vi": "Đăng ký qua áp phích theo cửa hàng",
                  "ms": "Pendaftaran poster mengikut lokasi"},
    "cards": {"en": "Cards installed and removed", "th": "บัตรที่เพิ่มและลบออก",
              "zh-Hant": "會員卡加入與移除", "vi": "Thẻ được thêm và gỡ bỏ",
              "ms": "Kad dipasang dan dibuang"},
    "funnel": {"en": "Funnel of this range's signups", "th": "เส้นทางของสมาชิกใหม่ในช่วงนี้",
               "zh-Hant": "此期間新會員的轉換漏斗", "vi": "Phễu của người đăng ký trong kỳ",
               "ms": "Corong pendaftaran dalam julat ini"},
    "active": {"en": "Active members", "th": "สมาชิกที่มีความเคลื่อนไหว",
               "zh-Hant": "活躍會員", "vi": "Thành viên hoạt động", "ms": "Ahli aktif"},
    "points": {"en": "Points issued versus redeemed", "th": "คะแนนที่ให้เทียบกับที่แลก",
               "zh-Hant": "發放與兌換點數", "vi": "Điểm phát ra và điểm đã đổi",
               "ms": "Mata dikeluarkan berbanding ditebus"},
    "redemption": {"en": "Redemption rate (%)", "th": "อัตราการแลก (%)",
                   "zh-Hant": "兌換率 (%)", "vi": "Tỷ lệ đổi điểm (%)",
                   "ms": "Kadar penebusan (%)"},
    "liability": {"en": "Outstanding points liability", "th": "ภาระคะแนนคงค้าง",
                  "zh-Hant": "未兌換點數負債", "vi": "Nợ điểm chưa dùng",
                  "ms": "Liabiliti mata tertunggak"},
    "tiers": {"en": "Members per tier (today)", "th": "สมาชิกแต่ละระดับ (วันนี้)",
              "zh-Hant": "各等級會員（今日）", "vi": "Thành viên theo hạng (hôm nay)",
              "ms": "Ahli mengikut peringkat (hari ini)"},
    "donations": {"en": "Points donated per cause", "th": "คะแนนที่บริจาคตามโครงการ",
                  "zh-Hant": "各公益項目捐贈點數", "vi": "Điểm quyên góp theo mục đích",
                  "ms": "Mata didermakan mengikut tujuan"},
    # series and categories
    "poster": {"en": "Poster", "th": "โปสเตอร์", "zh-Hant": "海報", "vi": "Áp phích",
               "ms": "Poster"},
    "link": {"en": "Link", "th": "ลิงก์", "zh-Hant": "連結", "vi": "Liên kết",
             "ms": "Pautan"},
    "import": {"en": "E-mail list", "th": "รายชื่ออีเมล", "zh-Hant": "電郵名單",
               "vi": "Danh sách email", "ms": "Senarai e-mel"},
    "api": {"en": "API", "th": "API", "zh-Hant": "API", "vi": "API", "ms": "API"},
    "dashboard": {"en": "Dashboard", "th": "แดชบอร์ด", "zh-Hant": "管理後台",
                  "vi": "Bảng điều khiển", "ms": "Papan pemuka"},
    "location": {"en": "Location", "th": "สาขา", "zh-Hant": "門市", "vi": "Cửa hàng",
                 "ms": "Lokasi"},
    "signups_n": {"en": "Signups", "th": "สมาชิกใหม่", "zh-Hant": "新會員", "vi": "Đăng ký",
                  "ms": "Pendaftaran"},
    "apple_install": {"en": "Apple installed", "th": "Apple เพิ่ม", "zh-Hant": "Apple 加入",
                      "vi": "Apple đã thêm", "ms": "Apple dipasang"},
    "apple_remove": {"en": "Apple removed", "th": "Apple ลบ", "zh-Hant": "Apple 移除",
                     "vi": "Apple đã gỡ", "ms": "Apple dibuang"},
    "google_install": {"en": "Google installed", "th": "Google เพิ่ม",
                       "zh-Hant": "Google 加入", "vi": "Google đã thêm",
                       "ms": "Google dipasang"},
    "google_remove": {"en": "Google removed", "th": "Google ลบ", "zh-Hant": "Google 移除",
                      "vi": "Google đã gỡ", "ms": "Google dibuang"},
    "step": {"en": "Step", "th": "ขั้นตอน", "zh-Hant": "步驟", "vi": "Bước", "ms": "Langkah"},
    "members": {"en": "Members", "th": "สมาชิก", "zh-Hant": "會員", "vi": "Thành viên",
                "ms": "Ahli"},
    "signup": {"en": "Signed up", "th": "สมัคร", "zh-Hant": "註冊", "vi": "Đăng ký",
               "ms": "Mendaftar"},
    "installed": {"en": "Card installed", "th": "เพิ่มบัตรแล้ว", "zh-Hant": "已加入會員卡",
                  "vi": "Đã thêm thẻ", "ms": "Kad dipasang"},
    "earned": {"en": "First earn", "th": "สะสมครั้งแรก", "zh-Hant": "首次集點",
               "vi": "Lần tích điểm đầu", "ms": "Kutipan pertama"},
    "redeemed": {"en": "First redemption", "th": "แลกครั้งแรก", "zh-Hant": "首次兌換",
                 "vi": "Lần đổi điểm đầu", "ms": "Penebusan pertama"},
    "active_n": {"en": "Active members", "th": "สมาชิกที่มีความเคลื่อนไหว",
                 "zh-Hant": "活躍會員", "vi": "Thành viên hoạt động", "ms": "Ahli aktif"},
    "issued": {"en": "Issued", "th": "ให้", "zh-Hant": "發放", "vi": "Phát ra",
               "ms": "Dikeluarkan"},
    "redeemed_pts": {"en": "Redeemed", "th": "แลก", "zh-Hant": "兌換", "vi": "Đã đổi",
                     "ms": "Ditebus"},
    "donated": {"en": "Donated", "th": "บริจาค", "zh-Hant": "捐贈", "vi": "Quyên góp",
                "ms": "Didermakan"},
    "expired": {"en": "Expired", "th": "หมดอายุ", "zh-Hant": "過期", "vi": "Hết hạn",
                "ms": "Tamat tempoh"},
    "adjusted": {"en": "Adjusted", "th": "ปรับปรุง", "zh-Hant": "調整", "vi": "Điều chỉnh",
                 "ms": "Dilaraskan"},
    "rate": {"en": "Redemption rate (%)", "th": "อัตราการแลก (%)", "zh-Hant": "兌換率 (%)",
             "vi": "Tỷ lệ đổi điểm (%)", "ms": "Kadar penebusan (%)"},
    "outstanding": {"en": "Outstanding points", "th": "คะแนนคงค้าง",
                    "zh-Hant": "未兌換點數", "vi": "Điểm chưa dùng",
                    "ms": "Mata tertunggak"},
    "value": {"en": "Value ({currency})", "th": "มูลค่า ({currency})",
              "zh-Hant": "價值（{currency}）", "vi": "Giá trị ({currency})",
              "ms": "Nilai ({currency})"},
    "tier": {"en": "Tier", "th": "ระดับ", "zh-Hant": "等級", "vi": "Hạng", "ms": "Peringkat"},
    "no_tier": {"en": "No tier", "th": "ไม่มีระดับ", "zh-Hant": "無等級",
                "vi": "Chưa có hạng", "ms": "Tiada peringkat"},
    "cause": {"en": "Cause", "th": "โครงการ", "zh-Hant": "公益項目", "vi": "Mục đích",
              "ms": "Tujuan"},
    "points_n": {"en": "Points", "th": "คะแนน", "zh-Hant": "點數", "vi": "Điểm",
                 "ms": "Mata"},
}


def text(key: str, lang: str, **values: Any) -> str:
    """A text in `lang` (English when missing), with {values} filled in."""
    entry = TEXTS[key]
    return entry.get(lang, entry[DEFAULT_LANGUAGE]).format(**values)


def page_language(asked: str | None, accept_language: str | None, program_language: str) -> str:
    """?lang= when it names a known language, else the browser's, else the program's."""
    from app.wallet.i18n import best_language

    chosen = normalize_language(asked) if asked else None
    if chosen:
        return chosen
    fallback = normalize_language(program_language) or DEFAULT_LANGUAGE
    return best_language(accept_language, fallback) if accept_language else fallback


assert all(set(v) == set(LANGUAGES) for v in TEXTS.values()), "every text in every language"
