"""Every text of the mails and the unsubscribe page, in each card language.

Values are filled in with str.format: {program}, {name}, {reward}, {points}, {date},
{tier}, {needed}, {email}, {n}. English is the fallback for a missing translation.
"""

from __future__ import annotations

from typing import Any

from app.wallet.i18n import DEFAULT_LANGUAGE, normalize_language

TEXTS: dict[str, dict[str, str]] = {
    "hello": {
        "en": "Hello {name},", "th": "สวัสดีคุณ {name}", "zh-Hant": "{name}您好：",
        "vi": "Xin chào {name},", "ms": "Hai {name},",
    },
    "hello_anonymous": {
        "en": "Hello,", "th": "สวัสดี", "zh-Hant": "您好：", "vi": "Xin chào,", "ms": "Hai,",
    },
    "open_card": {
        "en": "Open your card", "th": "เปิดบัตรของคุณ", "zh-Hant": "開啟您的會員卡",
        "vi": "Mở thẻ của bạn", "ms": "Buka kad anda",
    },
    "points_amount": {
        "en": "{n} points", "th": "{n} คะแนน", "zh-Hant": "{n} 點", "vi": "{n} điểm",
        "ms": "{n} mata",
    },
    "welcome.subject": {
        "en": "Your {program} card is ready", "th": "บัตรสมาชิก {program} ของคุณพร้อมแล้ว",
        "zh-Hant": "您的{program}會員卡已準備好", "vi": "Thẻ {program} của bạn đã sẵn sàng",
        "ms": "Kad {program} anda sudah sedia",
    },
    "welcome.heading": {
        "en": "Welcome to {program}", "th": "ยินดีต้อนรับสู่ {program}",
        "zh-Hant": "歡迎加入{program}", "vi": "Chào mừng bạn đến với {program}",
        "ms": "Selamat datang ke {program}",
    },
    "welcome.body": {
        "en": "Your loyalty card is ready. Open it on your phone and add it to your wallet: "
              "it shows your points and updates by itself.",
        "th": "บัตรสะสมคะแนนของคุณพร้อมใช้งานแล้ว เปิดบนโทรศัพท์แล้วเพิ่มลงในวอลเล็ต "
              "บัตรจะแสดงคะแนนของคุณและอัปเดตให้อัตโนมัติ",
        "zh-Hant": "您的集點卡已準備好。請在手機上開啟並加入錢包：卡片會顯示您的點數，並自動更新。",
        "vi": "Thẻ thành viên của bạn đã sẵn sàng. Hãy mở thẻ trên điện thoại và thêm vào ví: "
              "thẻ hiển thị điểm của bạn và tự động cập nhật.",
        "ms": "Kad kesetiaan anda sudah sedia. Buka kad pada telefon anda dan tambahkannya ke "
              "dompet: kad menunjukkan mata anda dan dikemas kini dengan sendirinya.",
    },
    "reward_available.subject": {
        "en": "A reward is waiting for you: {reward}", "th": "มีรางวัลรอคุณอยู่: {reward}",
        "zh-Hant": "有一份獎勵等著您：{reward}", "vi": "Một phần thưởng đang chờ bạn: {reward}",
        "ms": "Ganjaran menanti anda: {reward}",
    },
    "reward_available.heading": {
        "en": "You can now redeem {reward}", "th": "ตอนนี้คุณแลก {reward} ได้แล้ว",
        "zh-Hant": "您現在可以兌換{reward}", "vi": "Bạn đã có thể đổi {reward}",
        "ms": "Anda kini boleh menebus {reward}",
    },
    "reward_available.body": {
        "en": "You have {points} points, enough for {reward}. Show your card at checkout to "
              "redeem it.",
        "th": "คุณมี {points} คะแนน เพียงพอสำหรับ {reward} แสดงบัตรของคุณตอนชำระเงินเพื่อแลกรางวัล",
        "zh-Hant": "您有 {points} 點，足以兌換{reward}。結帳時出示會員卡即可兌換。",
        "vi": "Bạn có {points} điểm, đủ để đổi {reward}. Hãy xuất trình thẻ khi thanh toán để "
              "đổi thưởng.",
        "ms": "Anda mempunyai {points} mata, cukup untuk {reward}. Tunjukkan kad anda semasa "
              "membayar untuk menebusnya.",
    },
    "tier_near.subject": {
        "en": "You are close to {tier}", "th": "อีกนิดเดียวก็ถึงระดับ {tier}",
        "zh-Hant": "您即將升級為{tier}", "vi": "Bạn sắp đạt hạng {tier}",
        "ms": "Anda hampir mencapai {tier}",
    },
    "tier_near.heading": {
        "en": "Only {needed} more to {tier}", "th": "อีกเพียง {needed} ก็ถึงระดับ {tier}",
        "zh-Hant": "只差 {needed} 就能升級為{tier}",
        "vi": "Chỉ còn {needed} nữa là đạt hạng {tier}",
        "ms": "Hanya {needed} lagi untuk mencapai {tier}",
    },
    "tier_near.body": {
        "en": "Collect {needed} more and you reach {tier}.",
        "th": "สะสมเพิ่มอีก {needed} แล้วคุณจะได้เป็นสมาชิกระดับ {tier}",
        "zh-Hant": "再累積 {needed}，即可升級為{tier}。",
        "vi": "Tích lũy thêm {needed} để đạt hạng {tier}.",
        "ms": "Kumpul {needed} lagi untuk mencapai tahap {tier}.",
    },
    "points_expiring.subject": {
        "en": "{points} points expire on {date}", "th": "{points} คะแนนจะหมดอายุวันที่ {date}",
        "zh-Hant": "您有 {points} 點將於 {date} 到期",
        "vi": "{points} điểm sẽ hết hạn vào ngày {date}",
        "ms": "{points} mata akan tamat tempoh pada {date}",
    },
    "points_expiring.heading": {
        "en": "{points} points expire on {date}", "th": "{points} คะแนนจะหมดอายุวันที่ {date}",
        "zh-Hant": "您有 {points} 點將於 {date} 到期",
        "vi": "{points} điểm sẽ hết hạn vào ngày {date}",
        "ms": "{points} mata akan tamat tempoh pada {date}",
    },
    "points_expiring.body": {
        "en": "Use them by {date}: after that day they are gone. Show your card at checkout "
              "to spend them.",
        "th": "ใช้คะแนนภายในวันที่ {date} หลังจากนั้นคะแนนจะหมดอายุ แสดงบัตรของคุณตอนชำระเงินเพื่อใช้คะแนน",
        "zh-Hant": "請在 {date} 前使用，過期後點數將失效。結帳時出示會員卡即可使用。",
        "vi": "Hãy sử dụng trước hết ngày {date}: sau ngày đó số điểm này sẽ mất. Xuất trình "
              "thẻ khi thanh toán để dùng điểm.",
        "ms": "Gunakannya sebelum tamat {date}: selepas itu mata ini akan hilang. Tunjukkan "
              "kad anda semasa membayar untuk menggunakannya.",
    },
    "footer": {
        "en": "You get this mail because you are a member of {program}.",
        "th": "คุณได้รับอีเมลนี้เพราะคุณเป็นสมาชิกของ {program}",
        "zh-Hant": "您收到這封郵件，是因為您是{program}的會員。",
        "vi": "Bạn nhận được thư này vì bạn là thành viên của {program}.",
        "ms": "Anda menerima e-mel ini kerana anda ahli {program}.",
    },
    "unsubscribe": {
        "en": "Unsubscribe", "th": "ยกเลิกการรับอีเมล", "zh-Hant": "取消訂閱",
        "vi": "Hủy đăng ký", "ms": "Berhenti langgan",
    },
    "unsubscribe.question": {
        "en": "Stop mails from {program} to {email}?",
        "th": "หยุดส่งอีเมลจาก {program} ไปยัง {email} ใช่ไหม",
        "zh-Hant": "要停止{program}寄送郵件到 {email} 嗎？",
        "vi": "Ngừng gửi thư từ {program} đến {email}?",
        "ms": "Berhenti menerima e-mel daripada {program} di {email}?",
    },
    "unsubscribe.done_title": {
        "en": "You are unsubscribed", "th": "ยกเลิกการรับอีเมลแล้ว", "zh-Hant": "已取消訂閱",
        "vi": "Đã hủy đăng ký", "ms": "Langganan dihentikan",
    },
    "unsubscribe.done": {
        "en": "You will get no more mails from {program} at {email}.",
        "th": "คุณจะไม่ได้รับอีเมลจาก {program} ที่ {email} อีก",
        "zh-Hant": "{program}將不再寄送郵件到 {email}。",
        "vi": "Bạn sẽ không nhận thêm thư nào từ {program} tại {email}.",
        "ms": "Anda tidak akan menerima e-mel lagi daripada {program} di {email}.",
    },
}


def mail_language(*candidates: str | None) -> str:
    """The first candidate that is a card language (member's, then program's), else English."""
    for tag in candidates:
        lang = normalize_language(tag) if tag else None
        if lang is not None:
            return lang
    return DEFAULT_LANGUAGE


def text(key: str, lang: str, **values: Any) -> str:
    """The text `key` in `lang` (English when untranslated), with its values filled in."""
    versions = TEXTS[key]
    return versions.get(lang, versions[DEFAULT_LANGUAGE]).format(**values)
