"""What the customers' pages say, in every card language, and which language a page speaks.

Texts are looked up by key (`say(key, lang, **values)`); English is the fallback of a
missing translation. zh-Hant is written for Taiwan and Hong Kong readers alike, Malay is
Bahasa Malaysia. Thai writes no spaces between words; the browser breaks Thai lines itself.
"""

from __future__ import annotations

from flask import request

from app.wallet import i18n

LANGUAGE_NAMES = {"en": "English", "th": "ไทย", "zh-Hant": "繁體中文", "vi": "Tiếng Việt",
                  "ms": "Bahasa Melayu"}

TEXTS: dict[str, dict[str, str]] = {
    # --- the card page
    "your_card": {
        "en": "Your card", "th": "บัตรของคุณ", "zh-Hant": "您的會員卡",
        "vi": "Thẻ của bạn", "ms": "Kad anda"},
    "add_apple": {
        "en": "Add to Apple Wallet", "th": "เพิ่มลงใน Apple Wallet",
        "zh-Hant": "加入 Apple 錢包", "vi": "Thêm vào Apple Wallet",
        "ms": "Tambah ke Apple Wallet"},
    "save_google": {
        "en": "Save to Google Wallet", "th": "บันทึกลงใน Google Wallet",
        "zh-Hant": "儲存至 Google 錢包", "vi": "Lưu vào Google Wallet",
        "ms": "Simpan ke Google Wallet"},
    "show_at_till": {
        "en": "Show this code at the till", "th": "แสดงโค้ดนี้ที่จุดชำระเงิน",
        "zh-Hant": "結帳時出示此條碼", "vi": "Đưa mã này khi thanh toán",
        "ms": "Tunjukkan kod ini di kaunter"},
    "card_number": {
        "en": "Card number", "th": "หมายเลขบัตร", "zh-Hant": "卡號", "vi": "Số thẻ",
        "ms": "Nombor kad"},
    "scan_on_phone": {
        "en": "Scan with your phone to open this card there",
        "th": "สแกนด้วยมือถือเพื่อเปิดบัตรนี้บนมือถือ",
        "zh-Hant": "用手機掃描，即可在手機上開啟此卡",
        "vi": "Quét bằng điện thoại để mở thẻ này trên điện thoại",
        "ms": "Imbas dengan telefon anda untuk membuka kad ini di sana"},
    "home_screen": {
        "en": "Keep it handy: add this page to your home screen from your browser's menu.",
        "th": "เก็บไว้ใช้สะดวก: เพิ่มหน้านี้ไว้ที่หน้าจอหลักจากเมนูของเบราว์เซอร์",
        "zh-Hant": "隨時使用：從瀏覽器選單將此頁加入主畫面。",
        "vi": "Luôn sẵn sàng: thêm trang này vào màn hình chính từ menu trình duyệt.",
        "ms": "Sentiasa sedia: tambah halaman ini ke skrin utama melalui menu pelayar anda."},
    "share": {
        "en": "Invite your friends", "th": "ชวนเพื่อนมาเป็นสมาชิก",
        "zh-Hant": "邀請好友加入", "vi": "Mời bạn bè", "ms": "Jemput rakan anda"},
    "share_text": {
        "en": "Get a {program} card too:", "th": "มารับบัตร {program} ด้วยกันสิ:",
        "zh-Hant": "一起領取 {program} 會員卡：", "vi": "Nhận thẻ {program} cùng mình nhé:",
        "ms": "Dapatkan kad {program} juga:"},
    "sms": {"en": "SMS", "th": "SMS", "zh-Hant": "簡訊", "vi": "SMS", "ms": "SMS"},
    "copied": {
        "en": "Link copied", "th": "คัดลอกลิงก์แล้ว", "zh-Hant": "已複製連結",
        "vi": "Đã sao chép liên kết", "ms": "Pautan disalin"},
    "card_not_found": {
        "en": "This card link is not valid. Check the link in your e-mail.",
        "th": "ลิงก์บัตรนี้ไม่ถูกต้อง โปรดตรวจสอบลิงก์ในอีเมลของคุณ",
        "zh-Hant": "此會員卡連結無效，請查看電子郵件中的連結。",
        "vi": "Liên kết thẻ này không hợp lệ. Hãy kiểm tra liên kết trong email của bạn.",
        "ms": "Pautan kad ini tidak sah. Semak pautan dalam e-mel anda."},
    "not_found_title": {
        "en": "Not found", "th": "ไม่พบหน้านี้", "zh-Hant": "找不到頁面",
        "vi": "Không tìm thấy", "ms": "Tidak ditemui"},
    # --- the signup page
    "join_title": {
        "en": "Get your loyalty card", "th": "รับบัตรสะสมแต้มของคุณ",
        "zh-Hant": "領取您的會員卡", "vi": "Nhận thẻ thành viên của bạn",
        "ms": "Dapatkan kad kesetiaan anda"},
    "join_intro": {
        "en": "Sign up in a few seconds. Your card works in Apple Wallet, Google Wallet or "
              "right in your browser.",
        "th": "สมัครได้ในไม่กี่วินาที ใช้บัตรได้ทั้งใน Apple Wallet, Google Wallet "
              "หรือในเบราว์เซอร์",
        "zh-Hant": "幾秒完成註冊。會員卡可放入 Apple 錢包、Google 錢包，或直接在瀏覽器使用。",
        "vi": "Đăng ký chỉ trong vài giây. Thẻ dùng được trong Apple Wallet, Google Wallet "
              "hoặc ngay trên trình duyệt.",
        "ms": "Daftar dalam beberapa saat. Kad anda berfungsi dalam Apple Wallet, Google "
              "Wallet atau terus dalam pelayar anda."},
    "join_intro_apple": {
        "en": "Sign up in a few seconds. Your card works in Apple Wallet or right in your "
              "browser.",
        "th": "สมัครได้ในไม่กี่วินาที ใช้บัตรได้ทั้งใน Apple Wallet หรือในเบราว์เซอร์",
        "zh-Hant": "幾秒完成註冊。會員卡可放入 Apple 錢包，或直接在瀏覽器使用。",
        "vi": "Đăng ký chỉ trong vài giây. Thẻ dùng được trong Apple Wallet hoặc ngay trên "
              "trình duyệt.",
        "ms": "Daftar dalam beberapa saat. Kad anda berfungsi dalam Apple Wallet atau terus "
              "dalam pelayar anda."},
    "email": {"en": "E-mail", "th": "อีเมล", "zh-Hant": "電子郵件", "vi": "Email",
              "ms": "E-mel"},
    "name": {"en": "Name", "th": "ชื่อ", "zh-Hant": "姓名", "vi": "Họ tên", "ms": "Nama"},
    "phone": {"en": "Mobile phone", "th": "เบอร์มือถือ", "zh-Hant": "手機號碼",
              "vi": "Số điện thoại", "ms": "Telefon bimbit"},
    "birthday": {"en": "Birthday", "th": "วันเกิด", "zh-Hant": "生日", "vi": "Ngày sinh",
                 "ms": "Tarikh lahir"},
    "optional": {"en": "optional", "th": "ไม่บังคับ", "zh-Hant": "選填", "vi": "không bắt buộc",
                 "ms": "pilihan"},
    "marketing_consent": {
        "en": "Send me news and offers from {organization} by e-mail. I can unsubscribe at "
              "any time.",
        "th": "ฉันต้องการรับข่าวสารและข้อเสนอจาก {organization} ทางอีเมล "
              "และยกเลิกได้ทุกเมื่อ",
        "zh-Hant": "我同意 {organization} 以電子郵件寄送最新消息與優惠，並可隨時取消訂閱。",
        "vi": "Gửi cho tôi tin tức và ưu đãi từ {organization} qua email. Tôi có thể hủy "
              "đăng ký bất cứ lúc nào.",
        "ms": "Hantar berita dan tawaran daripada {organization} kepada saya melalui e-mel. "
              "Saya boleh berhenti melanggan pada bila-bila masa."},
    "privacy": {
        "en": "We use your e-mail address to send you your card and what concerns it.",
        "th": "เราใช้อีเมลของคุณเพื่อส่งบัตรและข้อมูลที่เกี่ยวข้องกับบัตรให้คุณ",
        "zh-Hant": "我們會使用您的電子郵件寄送會員卡及相關通知。",
        "vi": "Chúng tôi dùng email của bạn để gửi thẻ và các thông tin liên quan.",
        "ms": "Kami menggunakan alamat e-mel anda untuk menghantar kad anda dan perkara "
              "berkaitan dengannya."},
    "submit": {"en": "Get my card", "th": "รับบัตรของฉัน", "zh-Hant": "領取會員卡",
               "vi": "Nhận thẻ của tôi", "ms": "Dapatkan kad saya"},
    "language": {"en": "Language", "th": "ภาษา", "zh-Hant": "語言", "vi": "Ngôn ngữ",
                 "ms": "Bahasa"},
    "honeypot": {"en": "Leave this field empty"},
    "referred": {
        "en": "A friend invited you: you both get a bonus after your first purchase.",
        "th": "เพื่อนชวนคุณมา: รับโบนัสทั้งคู่หลังการซื้อครั้งแรกของคุณ",
        "zh-Hant": "好友推薦您加入：您首次消費後，雙方皆可獲得獎勵。",
        "vi": "Bạn bè đã mời bạn: cả hai sẽ nhận thưởng sau lần mua đầu tiên của bạn.",
        "ms": "Rakan anda menjemput anda: anda berdua mendapat bonus selepas pembelian "
              "pertama anda."},
    "link_sent_title": {
        "en": "Check your inbox", "th": "ตรวจสอบกล่องจดหมายของคุณ", "zh-Hant": "請查看您的收件匣",
        "vi": "Hãy kiểm tra hộp thư", "ms": "Semak peti masuk anda"},
    "link_sent": {
        "en": "We've sent your card link to {email}.",
        "th": "เราได้ส่งลิงก์บัตรของคุณไปที่ {email} แล้ว",
        "zh-Hant": "我們已將會員卡連結寄到 {email}。",
        "vi": "Chúng tôi đã gửi liên kết thẻ của bạn đến {email}.",
        "ms": "Kami telah menghantar pautan kad anda ke {email}."},
    "link_sent_hint": {
        "en": "Open the e-mail on your phone to add the card. Nothing there? Look in the spam "
              "folder.",
        "th": "เปิดอีเมลบนมือถือเพื่อเพิ่มบัตร หากไม่พบ โปรดดูในโฟลเดอร์จดหมายขยะ",
        "zh-Hant": "請在手機上開啟郵件以加入會員卡。沒收到？請查看垃圾郵件匣。",
        "vi": "Mở email trên điện thoại để thêm thẻ. Không thấy? Hãy xem thư mục thư rác.",
        "ms": "Buka e-mel pada telefon anda untuk menambah kad. Tiada? Semak folder spam."},
    "back": {"en": "Back", "th": "กลับ", "zh-Hant": "返回", "vi": "Quay lại", "ms": "Kembali"},
    "form_problems": {
        "en": "Please check the fields marked below.",
        "th": "โปรดตรวจสอบช่องที่ทำเครื่องหมายไว้ด้านล่าง",
        "zh-Hant": "請檢查下方標示的欄位。",
        "vi": "Vui lòng kiểm tra các ô được đánh dấu bên dưới.",
        "ms": "Sila semak ruangan yang ditanda di bawah."},
    "rate_limited": {
        "en": "Too many sign-ups from your network just now. Please wait a few minutes and "
              "try again.",
        "th": "มีการสมัครจากเครือข่ายของคุณมากเกินไปในขณะนี้ โปรดรอสักครู่แล้วลองใหม่",
        "zh-Hant": "您的網路剛才註冊次數過多，請稍候幾分鐘再試。",
        "vi": "Có quá nhiều lượt đăng ký từ mạng của bạn. Vui lòng đợi vài phút rồi thử lại.",
        "ms": "Terlalu banyak pendaftaran daripada rangkaian anda sebentar tadi. Sila tunggu "
              "beberapa minit dan cuba lagi."},
    "too_large": {
        "en": "What you sent is far too long. Please fill in the form again.",
        "th": "ข้อมูลที่คุณส่งยาวเกินไป โปรดกรอกแบบฟอร์มใหม่อีกครั้ง",
        "zh-Hant": "您送出的內容過長，請重新填寫表單。",
        "vi": "Nội dung bạn gửi quá dài. Vui lòng điền lại biểu mẫu.",
        "ms": "Apa yang anda hantar terlalu panjang. Sila isi borang sekali lagi."},
    "signup_closed": {
        "en": "This signup page does not exist.",
        "th": "ไม่มีหน้าสมัครสมาชิกนี้", "zh-Hant": "此註冊頁面不存在。",
        "vi": "Trang đăng ký này không tồn tại.",
        "ms": "Halaman pendaftaran ini tidak wujud."},
    # --- errors next to a field
    "err_required": {
        "en": "Please fill this in.", "th": "โปรดกรอกช่องนี้", "zh-Hant": "此欄位必填。",
        "vi": "Vui lòng điền thông tin này.", "ms": "Sila isi ruangan ini."},
    "err_email": {
        "en": "Enter an e-mail address such as name@example.com.",
        "th": "โปรดกรอกอีเมลให้ถูกต้อง เช่น name@example.com",
        "zh-Hant": "請輸入有效的電子郵件，例如 name@example.com。",
        "vi": "Nhập địa chỉ email hợp lệ, ví dụ name@example.com.",
        "ms": "Masukkan alamat e-mel seperti name@example.com."},
    "err_name": {
        "en": "Enter your name (at most 200 characters).",
        "th": "โปรดกรอกชื่อ (ไม่เกิน 200 ตัวอักษร)",
        "zh-Hant": "請輸入姓名（最多 200 個字元）。",
        "vi": "Nhập họ tên (tối đa 200 ký tự).",
        "ms": "Masukkan nama anda (paling banyak 200 aksara)."},
    "err_phone": {
        "en": "Enter a mobile number, such as {example}.",
        "th": "โปรดกรอกเบอร์มือถือให้ถูกต้อง เช่น {example}",
        "zh-Hant": "請輸入有效的手機號碼，例如 {example}。",
        "vi": "Nhập số điện thoại hợp lệ, ví dụ {example}.",
        "ms": "Masukkan nombor telefon bimbit, seperti {example}."},
    "err_birthday": {
        "en": "Enter a past date.", "th": "โปรดกรอกวันที่ในอดีต",
        "zh-Hant": "請輸入過去的日期。", "vi": "Nhập một ngày trong quá khứ.",
        "ms": "Masukkan tarikh yang telah berlalu."},
    "err_other": {
        "en": "This value is not valid.", "th": "ข้อมูลนี้ไม่ถูกต้อง", "zh-Hant": "此欄位無效。",
        "vi": "Giá trị này không hợp lệ.", "ms": "Nilai ini tidak sah."},
}


def say(key: str, lang: str, **values: str) -> str:
    """A page text in a language (English when it has no translation), values filled in."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def page_language(*preferred: str | None, fallback: str = i18n.DEFAULT_LANGUAGE) -> str:
    """The first of: the explicit choices given (e.g. ?lang=, the member's language),
    the browser's Accept-Language, the fallback (the program's language)."""
    for choice in preferred:
        lang = i18n.normalize_language(choice) if choice else None
        if lang is not None:
            return lang
    header = request.headers.get("Accept-Language")
    if header:
        best = i18n.best_language(header, default="")
        if best:
            return best
    return i18n.normalize_language(fallback) or i18n.DEFAULT_LANGUAGE
