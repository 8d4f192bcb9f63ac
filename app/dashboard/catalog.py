"""The dashboard's messages in Thai, Traditional Chinese, Vietnamese and Malay.

Keys are the English messages as written in the templates and code; values are
(th, zh-Hant, vi, ms). {names} in braces are filled in and must stay as they are.
"""

from __future__ import annotations

ORDER = ("th", "zh-Hant", "vi", "ms")

_MESSAGES: dict[str, tuple[str, str, str, str]] = {
    # frame
    "Dashboard": ("แดชบอร์ด", "管理後台", "Bảng điều khiển", "Papan pemuka"),
    "Skip to content": ("ข้ามไปยังเนื้อหา", "跳至內容", "Chuyển đến nội dung", "Langkau ke kandungan"),
    "Language": ("ภาษา", "語言", "Ngôn ngữ", "Bahasa"),
    "Change": ("เปลี่ยน", "變更", "Đổi", "Tukar"),
    "Log out": ("ออกจากระบบ", "登出", "Đăng xuất", "Log keluar"),
    "Main": ("เมนูหลัก", "主選單", "Menu chính", "Menu utama"),
    "Home": ("หน้าแรก", "首頁", "Trang chủ", "Laman utama"),
    "Card designer": ("ออกแบบบัตร", "卡片設計", "Thiết kế thẻ", "Pereka kad"),
    "Webhooks": ("Webhook", "Webhook", "Webhook", "Webhook"),
    "API keys": ("คีย์ API", "API 金鑰", "Khóa API", "Kunci API"),
    "Staff": ("พนักงาน", "員工", "Nhân viên", "Kakitangan"),
    "Status": ("สถานะ", "狀態", "Trạng thái", "Status"),
    "API for point-of-sale systems": ("API สำหรับระบบขายหน้าร้าน", "收銀系統 API",
                                      "API cho hệ thống bán hàng", "API untuk sistem jualan"),
    "owner": ("เจ้าของ", "擁有者", "chủ sở hữu", "pemilik"),
    "manager": ("ผู้จัดการ", "經理", "quản lý", "pengurus"),
    "cashier": ("แคชเชียร์", "收銀員", "thu ngân", "juruwang"),
    # accounts
    "Log in": ("เข้าสู่ระบบ", "登入", "Đăng nhập", "Log masuk"),
    "Your loyalty cards, in Apple Wallet and Google Wallet. The service is running.": (
        "บัตรสะสมแต้มของคุณใน Apple Wallet และ Google Wallet ระบบกำลังทำงาน",
        "您的集點卡，放進 Apple Wallet 與 Google Wallet。服務正在運作。",
        "Thẻ khách hàng thân thiết của bạn trên Apple Wallet và Google Wallet. Dịch vụ đang chạy.",
        "Kad kesetiaan anda dalam Apple Wallet dan Google Wallet. Perkhidmatan sedang berjalan."),
    "E-mail": ("อีเมล", "電子郵件", "Email", "E-mel"),
    "Password": ("รหัสผ่าน", "密碼", "Mật khẩu", "Kata laluan"),
    "Forgot your password?": ("ลืมรหัสผ่าน?", "忘記密碼？", "Quên mật khẩu?", "Lupa kata laluan?"),
    "Create an account": ("สร้างบัญชี", "建立帳戶", "Tạo tài khoản", "Cipta akaun"),
    "Wrong e-mail or password.": ("อีเมลหรือรหัสผ่านไม่ถูกต้อง", "電子郵件或密碼錯誤。",
                                  "Email hoặc mật khẩu không đúng.",
                                  "E-mel atau kata laluan salah."),
    "Too many failed attempts. Wait a few minutes and try again.": (
        "ลองผิดหลายครั้งเกินไป โปรดรอสักครู่แล้วลองใหม่", "失敗次數過多，請稍候幾分鐘再試。",
        "Quá nhiều lần thử không thành công. Hãy đợi vài phút rồi thử lại.",
        "Terlalu banyak percubaan gagal. Tunggu beberapa minit dan cuba lagi."),
    "Reset your password": ("ตั้งรหัสผ่านใหม่", "重設密碼", "Đặt lại mật khẩu",
                            "Tetapkan semula kata laluan"),
    "If an account uses this e-mail, a link to choose a new password is on its way. It works "
    "for one hour.": (
        "หากมีบัญชีที่ใช้อีเมลนี้ ลิงก์สำหรับตั้งรหัสผ่านใหม่กำลังส่งไป ลิงก์ใช้ได้หนึ่งชั่วโมง",
        "若有帳戶使用此電子郵件，設定新密碼的連結已寄出，一小時內有效。",
        "Nếu có tài khoản dùng email này, một liên kết để đặt mật khẩu mới đang được gửi. "
        "Liên kết có hiệu lực trong một giờ.",
        "Jika akaun menggunakan e-mel ini, pautan untuk memilih kata laluan baharu sedang "
        "dihantar. Ia sah selama satu jam."),
    "Send me a link": ("ส่งลิงก์ให้ฉัน", "寄送連結給我", "Gửi liên kết cho tôi", "Hantar pautan"),
    "Back to log in": ("กลับไปเข้าสู่ระบบ", "返回登入", "Quay lại đăng nhập",
                       "Kembali ke log masuk"),
    "Choose a new password": ("ตั้งรหัสผ่านใหม่", "設定新密碼", "Chọn mật khẩu mới",
                              "Pilih kata laluan baharu"),
    "Join {business}": ("เข้าร่วม {business}", "加入 {business}", "Tham gia {business}",
                        "Sertai {business}"),
    "You are invited as {role} with the e-mail {email}.": (
        "คุณได้รับเชิญในตำแหน่ง{role} ด้วยอีเมล {email}", "您以{role}身分受邀，電子郵件為 {email}。",
        "Bạn được mời với vai trò {role}, email {email}.",
        "Anda dijemput sebagai {role} dengan e-mel {email}."),
    "New password": ("รหัสผ่านใหม่", "新密碼", "Mật khẩu mới", "Kata laluan baharu"),
    "At least 10 characters.": ("อย่างน้อย 10 ตัวอักษร", "至少 10 個字元。", "Ít nhất 10 ký tự.",
                                "Sekurang-kurangnya 10 aksara."),
    "Continue": ("ดำเนินการต่อ", "繼續", "Tiếp tục", "Teruskan"),
    "Business name": ("ชื่อร้าน", "商家名稱", "Tên doanh nghiệp", "Nama perniagaan"),
    "Not allowed": ("ไม่ได้รับอนุญาต", "無權限", "Không được phép", "Tidak dibenarkan"),
    "Your role does not allow this page. Ask an owner of the business if you need it.": (
        "ตำแหน่งของคุณเข้าหน้านี้ไม่ได้ หากจำเป็นโปรดติดต่อเจ้าของร้าน",
        "您的角色無法使用此頁面，如有需要請洽商家擁有者。",
        "Vai trò của bạn không được dùng trang này. Hãy hỏi chủ doanh nghiệp nếu bạn cần.",
        "Peranan anda tidak membenarkan halaman ini. Tanya pemilik perniagaan jika perlu."),
    "Back to home": ("กลับหน้าแรก", "返回首頁", "Về trang chủ", "Kembali ke laman utama"),
    # home and status
    "Welcome": ("ยินดีต้อนรับ", "歡迎", "Xin chào", "Selamat datang"),
    "Business": ("ร้าน", "商家", "Doanh nghiệp", "Perniagaan"),
    "Your cards": ("บัตรของคุณ", "您的卡片", "Thẻ của bạn", "Kad anda"),
    "Draft": ("ฉบับร่าง", "草稿", "Bản nháp", "Draf"),
    "Design": ("ออกแบบ", "設計", "Thiết kế", "Reka"),
    "Analytics": ("สถิติ", "數據分析", "Phân tích", "Analitik"),
    "You have no card yet. Start from a template: it takes two minutes.": (
        "คุณยังไม่มีบัตร เริ่มจากแม่แบบ ใช้เวลาเพียงสองนาที", "您還沒有卡片。從範本開始，只要兩分鐘。",
        "Bạn chưa có thẻ nào. Hãy bắt đầu từ một mẫu: chỉ mất hai phút.",
        "Anda belum ada kad. Mulakan daripada templat: hanya dua minit."),
    "Open the card designer": ("เปิดหน้าออกแบบบัตร", "開啟卡片設計", "Mở trình thiết kế thẻ",
                               "Buka pereka kad"),
    "Wallet status": ("สถานะ Wallet", "錢包狀態", "Trạng thái Wallet", "Status Wallet"),
    "Everything is set up: cards work on iPhone and Android, and mail is sent.": (
        "ตั้งค่าครบแล้ว บัตรใช้ได้บน iPhone และ Android และส่งอีเมลได้",
        "一切就緒：卡片可在 iPhone 與 Android 使用，郵件也會寄出。",
        "Mọi thứ đã sẵn sàng: thẻ dùng được trên iPhone và Android, email được gửi đi.",
        "Semua sudah sedia: kad berfungsi di iPhone dan Android, dan e-mel dihantar."),
    "Development certificate in use": ("กำลังใช้ใบรับรองสำหรับทดสอบ", "正在使用開發用憑證",
                                       "Đang dùng chứng chỉ thử nghiệm",
                                       "Sijil pembangunan sedang digunakan"),
    "Apple certificate expires soon": ("ใบรับรอง Apple ใกล้หมดอายุ", "Apple 憑證即將到期",
                                       "Chứng chỉ Apple sắp hết hạn", "Sijil Apple hampir tamat"),
    "Google Wallet is not configured": ("ยังไม่ได้ตั้งค่า Google Wallet", "尚未設定 Google Wallet",
                                        "Chưa cấu hình Google Wallet",
                                        "Google Wallet belum dikonfigurasi"),
    "Mail goes to a folder, not to people": ("อีเมลถูกเก็บในโฟลเดอร์ ไม่ได้ส่งถึงผู้รับ",
                                             "郵件存進資料夾，沒有寄給收件人",
                                             "Email được lưu vào thư mục, không gửi tới người nhận",
                                             "E-mel disimpan dalam folder, bukan dihantar"),
    # designer
    "Start a new card from a template": ("เริ่มบัตรใหม่จากแม่แบบ", "從範本建立新卡片",
                                         "Tạo thẻ mới từ mẫu", "Mulakan kad baharu daripada templat"),
    "Template": ("แม่แบบ", "範本", "Mẫu", "Templat"),
    "Cafe": ("ร้านกาแฟ", "咖啡店", "Quán cà phê", "Kafe"),
    "Laundromat": ("ร้านซักรีด", "自助洗衣店", "Tiệm giặt", "Dobi layan diri"),
    "Retail": ("ร้านค้าปลีก", "零售店", "Cửa hàng bán lẻ", "Kedai runcit"),
    "Card name": ("ชื่อบัตร", "卡片名稱", "Tên thẻ", "Nama kad"),
    "What members see as the name of the program, e.g. “Bean There Rewards”.": (
        "ชื่อโปรแกรมที่สมาชิกเห็น เช่น “Bean There Rewards”", "會員看到的方案名稱，例如「Bean There Rewards」。",
        "Tên chương trình mà thành viên thấy, ví dụ “Bean There Rewards”.",
        "Nama program yang dilihat ahli, cth. “Bean There Rewards”."),
    "Create the card": ("สร้างบัตร", "建立卡片", "Tạo thẻ", "Cipta kad"),
    "Throw away the draft and go back to the published card?": (
        "ทิ้งฉบับร่างและกลับไปใช้บัตรที่เผยแพร่แล้ว?", "捨棄草稿並回到已發布的卡片？",
        "Bỏ bản nháp và quay về thẻ đã phát hành?",
        "Buang draf dan kembali ke kad yang diterbitkan?"),
    "Discard draft": ("ทิ้งฉบับร่าง", "捨棄草稿", "Bỏ bản nháp", "Buang draf"),
    "Draft saved. Installed cards do not change until you publish.": (
        "บันทึกฉบับร่างแล้ว บัตรที่ติดตั้งไว้จะไม่เปลี่ยนจนกว่าคุณจะเผยแพร่",
        "草稿已儲存。發布前，已安裝的卡片不會改變。",
        "Đã lưu bản nháp. Thẻ đã cài sẽ không đổi cho đến khi bạn phát hành.",
        "Draf disimpan. Kad yang dipasang tidak berubah sehingga anda menerbitkan."),
    "Some fields need attention; see the messages next to them.": (
        "บางช่องต้องแก้ไข ดูข้อความข้างช่องนั้น", "有些欄位需要修正，請看欄位旁的說明。",
        "Một số ô cần sửa; xem thông báo bên cạnh.",
        "Beberapa medan perlu dibetulkan; lihat mesej di sebelahnya."),
    "Names": ("ชื่อ", "名稱", "Tên", "Nama"),
    "Google Wallet shows it at the top of the card.": (
        "Google Wallet แสดงที่ด้านบนของบัตร", "Google Wallet 會顯示在卡片上方。",
        "Google Wallet hiển thị ở đầu thẻ.", "Google Wallet memaparkannya di atas kad."),
    "Text beside the logo": ("ข้อความข้างโลโก้", "標誌旁文字", "Chữ bên cạnh logo",
                             "Teks di sebelah logo"),
    "Short: about 18 characters fit.": ("สั้น ๆ ประมาณ 18 ตัวอักษร", "請簡短：約可顯示 18 個字元。",
                                        "Ngắn gọn: vừa khoảng 18 ký tự.",
                                        "Ringkas: kira-kira 18 aksara muat."),
    "Description (for screen readers)": ("คำอธิบาย (สำหรับโปรแกรมอ่านหน้าจอ)", "描述（供螢幕閱讀器使用）",
                                         "Mô tả (cho trình đọc màn hình)",
                                         "Keterangan (untuk pembaca skrin)"),
    "Colours": ("สี", "顏色", "Màu sắc", "Warna"),
    "Background": ("พื้นหลัง", "背景", "Nền", "Latar"),
    "Text": ("ข้อความ", "文字", "Chữ", "Teks"),
    "Labels": ("ป้ายกำกับ", "標籤", "Nhãn", "Label"),
    "Front of the card": ("ด้านหน้าบัตร", "卡片正面", "Mặt trước thẻ", "Depan kad"),
    "Points label": ("คำเรียกแต้ม", "點數名稱", "Nhãn điểm", "Label mata"),
    "The word over the balance, e.g. Points, Stars, Stamps.": (
        "คำที่อยู่เหนือยอดแต้ม เช่น แต้ม ดาว แสตมป์", "餘額上方的文字，例如：點數、星星、印章。",
        "Chữ phía trên số dư, ví dụ Điểm, Sao, Tem.",
        "Perkataan di atas baki, cth. Mata, Bintang, Setem."),
    "Barcode type": ("ประเภทบาร์โค้ด", "條碼類型", "Loại mã vạch", "Jenis kod bar"),
    "QR works with every phone camera and most scanners.": (
        "QR ใช้ได้กับกล้องโทรศัพท์และเครื่องสแกนส่วนใหญ่", "QR 適用於所有手機相機與大多數掃描器。",
        "QR dùng được với mọi camera điện thoại và hầu hết máy quét.",
        "QR berfungsi dengan semua kamera telefon dan kebanyakan pengimbas."),
    "Back of the card": ("ด้านหลังบัตร", "卡片背面", "Mặt sau thẻ", "Belakang kad"),
    "About the program": ("เกี่ยวกับโปรแกรม", "方案介紹", "Giới thiệu chương trình",
                          "Tentang program"),
    "Terms and conditions": ("ข้อกำหนดและเงื่อนไข", "條款與細則", "Điều khoản và điều kiện",
                             "Terma dan syarat"),
    "Languages": ("ภาษา", "語言", "Ngôn ngữ", "Bahasa"),
    "Language you write the card in": ("ภาษาที่คุณใช้เขียนบัตร", "撰寫卡片所用的語言",
                                       "Ngôn ngữ bạn viết thẻ", "Bahasa yang anda gunakan untuk kad"),
    "The card also speaks": ("บัตรรองรับภาษาเหล่านี้ด้วย", "卡片也支援", "Thẻ còn hiển thị bằng",
                             "Kad juga dalam bahasa"),
    "Translations: {language}": ("คำแปล: {language}", "翻譯：{language}", "Bản dịch: {language}",
                                 "Terjemahan: {language}"),
    "Save draft": ("บันทึกฉบับร่าง", "儲存草稿", "Lưu bản nháp", "Simpan draf"),
    "Review and publish": ("ตรวจทานและเผยแพร่", "檢查並發布", "Xem lại và phát hành",
                           "Semak dan terbitkan"),
    "Images": ("รูปภาพ", "圖片", "Hình ảnh", "Imej"),
    "Logo": ("โลโก้", "標誌", "Logo", "Logo"),
    "Strip picture": ("ภาพแถบ", "橫幅圖片", "Ảnh dải", "Gambar jalur"),
    "Strip image": ("ภาพแถบ", "橫幅圖片", "Ảnh dải", "Gambar jalur"),
    "Icon": ("ไอคอน", "圖示", "Biểu tượng", "Ikon"),
    "Upload": ("อัปโหลด", "上傳", "Tải lên", "Muat naik"),
    "PNG or JPEG, at least 480×150 pixels; it is fitted inside the logo area.": (
        "PNG หรือ JPEG อย่างน้อย 480×150 พิกเซล จะถูกย่อให้พอดีกับพื้นที่โลโก้",
        "PNG 或 JPEG，至少 480×150 像素；會縮放至標誌區域內。",
        "PNG hoặc JPEG, ít nhất 480×150 điểm ảnh; được thu vừa khung logo.",
        "PNG atau JPEG, sekurang-kurangnya 480×150 piksel; dimuatkan dalam ruang logo."),
    "At least 1125×369 pixels; other shapes are cropped to fit, as shown in the preview.": (
        "อย่างน้อย 1125×369 พิกเซล รูปทรงอื่นจะถูกครอปตามที่เห็นในตัวอย่าง",
        "至少 1125×369 像素；其他比例會被裁切，如預覽所示。",
        "Ít nhất 1125×369 điểm ảnh; hình khác tỉ lệ sẽ bị cắt như trong bản xem trước.",
        "Sekurang-kurangnya 1125×369 piksel; bentuk lain dipangkas seperti dalam pratonton."),
    "A square, at least 87×87 pixels (lock screen and Google logo).": (
        "สี่เหลี่ยมจัตุรัส อย่างน้อย 87×87 พิกเซล (หน้าจอล็อกและโลโก้ Google)",
        "正方形，至少 87×87 像素（鎖定畫面與 Google 標誌）。",
        "Hình vuông, ít nhất 87×87 điểm ảnh (màn hình khóa và logo Google).",
        "Segi empat sama, sekurang-kurangnya 87×87 piksel (skrin kunci dan logo Google)."),
    "Live preview": ("ตัวอย่างสด", "即時預覽", "Xem trước trực tiếp", "Pratonton langsung"),
    "Card language": ("ภาษาของบัตร", "卡片語言", "Ngôn ngữ thẻ", "Bahasa kad"),
    "Apple Wallet · front": ("Apple Wallet · ด้านหน้า", "Apple Wallet · 正面",
                             "Apple Wallet · mặt trước", "Apple Wallet · depan"),
    "Apple Wallet · back": ("Apple Wallet · ด้านหลัง", "Apple Wallet · 背面",
                            "Apple Wallet · mặt sau", "Apple Wallet · belakang"),
    "Google Wallet": ("Google Wallet", "Google Wallet", "Google Wallet", "Google Wallet"),
    "Design checks": ("ตรวจการออกแบบ", "設計檢查", "Kiểm tra thiết kế", "Semakan reka bentuk"),
    "No problems found: the card reads well on phones.": (
        "ไม่พบปัญหา บัตรอ่านง่ายบนโทรศัพท์", "沒有發現問題：卡片在手機上清楚易讀。",
        "Không có vấn đề: thẻ dễ đọc trên điện thoại.",
        "Tiada masalah: kad mudah dibaca di telefon."),
    "“{text}” is {length} characters long: phones cut it after about {limit}.": (
        "“{text}” ยาว {length} ตัวอักษร โทรศัพท์จะตัดหลังประมาณ {limit} ตัว",
        "「{text}」共 {length} 個字元：手機約在 {limit} 個字元後截斷。",
        "“{text}” dài {length} ký tự: điện thoại sẽ cắt sau khoảng {limit}.",
        "“{text}” panjangnya {length} aksara: telefon memotongnya selepas kira-kira {limit}."),
    "Low contrast: {ratio}:1 against the background (at least {floor}:1 is easy to read).": (
        "คอนทราสต์ต่ำ: {ratio}:1 เทียบกับพื้นหลัง (อย่างน้อย {floor}:1 จึงอ่านง่าย)",
        "對比度不足：與背景為 {ratio}:1（至少 {floor}:1 才易讀）。",
        "Độ tương phản thấp: {ratio}:1 so với nền (từ {floor}:1 trở lên mới dễ đọc).",
        "Kontras rendah: {ratio}:1 berbanding latar (sekurang-kurangnya {floor}:1 mudah dibaca)."),
    "The card has no {kind} image.": ("บัตรยังไม่มีภาพ {kind}", "卡片沒有 {kind} 圖片。",
                                      "Thẻ chưa có ảnh {kind}.", "Kad tiada imej {kind}."),
    "The {kind} image is {width}×{height} pixels: upload at least {min_w}×{min_h} so it stays "
    "sharp.": ("ภาพ {kind} มีขนาด {width}×{height} พิกเซล อัปโหลดอย่างน้อย {min_w}×{min_h} เพื่อให้คมชัด",
               "{kind} 圖片為 {width}×{height} 像素：請上傳至少 {min_w}×{min_h} 以保持清晰。",
               "Ảnh {kind} có {width}×{height} điểm ảnh: hãy tải lên ít nhất {min_w}×{min_h} để ảnh sắc nét.",
               "Imej {kind} ialah {width}×{height} piksel: muat naik sekurang-kurangnya "
               "{min_w}×{min_h} supaya tajam."),
    "The strip will be cropped ({cut} are cut off): its shape is not 375×123.": (
        "ภาพแถบจะถูกครอป ({cut} ถูกตัดออก) เพราะสัดส่วนไม่ใช่ 375×123",
        "橫幅圖片會被裁切（{cut}被切掉）：比例不是 375×123。",
        "Ảnh dải sẽ bị cắt ({cut} bị cắt bỏ): tỉ lệ không phải 375×123.",
        "Jalur akan dipangkas ({cut} dipotong): bentuknya bukan 375×123."),
    "Not translated into {language}: {what}.": ("ยังไม่ได้แปลเป็น {language}: {what}",
                                                "尚未翻譯成 {language}：{what}。",
                                                "Chưa dịch sang {language}: {what}.",
                                                "Belum diterjemah ke {language}: {what}."),
    "Publish": ("เผยแพร่", "發布", "Phát hành", "Terbit"),
    "Publish the new design": ("เผยแพร่ดีไซน์ใหม่", "發布新設計", "Phát hành thiết kế mới",
                               "Terbitkan reka bentuk baharu"),
    "What changes": ("สิ่งที่เปลี่ยน", "變更內容", "Những gì thay đổi", "Apa yang berubah"),
    "Publishing updates every installed card: {apple} Apple Wallet devices and {google} Google "
    "Wallet cards.": (
        "การเผยแพร่จะอัปเดตบัตรทุกใบที่ติดตั้งไว้: อุปกรณ์ Apple Wallet {apple} เครื่อง และบัตร Google Wallet {google} ใบ",
        "發布會更新所有已安裝的卡片：{apple} 台 Apple Wallet 裝置與 {google} 張 Google Wallet 卡片。",
        "Phát hành sẽ cập nhật mọi thẻ đã cài: {apple} thiết bị Apple Wallet và {google} thẻ "
        "Google Wallet.",
        "Penerbitan mengemas kini setiap kad yang dipasang: {apple} peranti Apple Wallet dan "
        "{google} kad Google Wallet."),
    "Publish now": ("เผยแพร่ตอนนี้", "立即發布", "Phát hành ngay", "Terbitkan sekarang"),
    "Keep editing": ("แก้ไขต่อ", "繼續編輯", "Tiếp tục chỉnh sửa", "Terus mengedit"),
    "Nothing to publish: the draft is the same as the published card.": (
        "ไม่มีอะไรให้เผยแพร่ ฉบับร่างเหมือนบัตรที่เผยแพร่แล้ว", "沒有需要發布的內容：草稿與已發布的卡片相同。",
        "Không có gì để phát hành: bản nháp giống thẻ đã phát hành.",
        "Tiada apa untuk diterbitkan: draf sama dengan kad yang diterbitkan."),
    "Publishing": ("กำลังเผยแพร่", "發布中", "Đang phát hành", "Menerbitkan"),
    "Publishing design version {version}": ("กำลังเผยแพร่ดีไซน์เวอร์ชัน {version}",
                                            "正在發布第 {version} 版設計",
                                            "Đang phát hành thiết kế phiên bản {version}",
                                            "Menerbitkan reka bentuk versi {version}"),
    "Apple Wallet devices": ("อุปกรณ์ Apple Wallet", "Apple Wallet 裝置", "Thiết bị Apple Wallet",
                             "Peranti Apple Wallet"),
    "Google Wallet cards": ("บัตร Google Wallet", "Google Wallet 卡片", "Thẻ Google Wallet",
                            "Kad Google Wallet"),
    "Every installed card has the new design.": ("บัตรทุกใบที่ติดตั้งได้ดีไซน์ใหม่แล้ว",
                                                 "所有已安裝的卡片都已是新設計。",
                                                 "Mọi thẻ đã cài đều có thiết kế mới.",
                                                 "Setiap kad yang dipasang mempunyai reka bentuk baharu."),
    "Cards update in the background; you can leave this page.": (
        "บัตรจะอัปเดตเบื้องหลัง คุณออกจากหน้านี้ได้", "卡片會在背景更新，您可以離開此頁面。",
        "Thẻ được cập nhật ở chế độ nền; bạn có thể rời trang này.",
        "Kad dikemas kini di latar belakang; anda boleh meninggalkan halaman ini."),
    "Back to the designer": ("กลับไปหน้าออกแบบ", "返回卡片設計", "Quay lại trình thiết kế",
                             "Kembali ke pereka"),
    # API keys
    "Tills and other programs use an API key to add points and look members up. Give each one "
    "its own key, so you can revoke it alone.": (
        "เครื่องคิดเงินและโปรแกรมอื่นใช้คีย์ API เพื่อเพิ่มแต้มและค้นหาสมาชิก ให้แต่ละเครื่องมีคีย์ของตัวเอง เพื่อเพิกถอนแยกได้",
        "收銀機與其他程式用 API 金鑰加點與查詢會員。每個程式各給一把金鑰，就能單獨撤銷。",
        "Máy tính tiền và các chương trình khác dùng khóa API để cộng điểm và tra cứu thành "
        "viên. Hãy cấp cho mỗi nơi một khóa riêng để có thể thu hồi riêng lẻ.",
        "Mesin juruwang dan program lain menggunakan kunci API untuk menambah mata dan mencari "
        "ahli. Berikan setiap satu kuncinya sendiri supaya boleh dibatalkan berasingan."),
    "Copy this key now: it is shown only once.": ("คัดลอกคีย์นี้ตอนนี้ ระบบจะแสดงเพียงครั้งเดียว",
                                                  "請立即複製此金鑰：只會顯示一次。",
                                                  "Hãy sao chép khóa này ngay: khóa chỉ hiện một lần.",
                                                  "Salin kunci ini sekarang: ia dipaparkan sekali sahaja."),
    "Keys": ("คีย์", "金鑰", "Khóa", "Kunci"),
    "Name": ("ชื่อ", "名稱", "Tên", "Nama"),
    "Key": ("คีย์", "金鑰", "Khóa", "Kunci"),
    "Last used": ("ใช้ล่าสุด", "上次使用", "Dùng lần cuối", "Kali terakhir digunakan"),
    "Actions": ("การดำเนินการ", "操作", "Thao tác", "Tindakan"),
    "never": ("ไม่เคย", "從未", "chưa bao giờ", "tidak pernah"),
    "revoked": ("เพิกถอนแล้ว", "已撤銷", "đã thu hồi", "dibatalkan"),
    "Revoke this key? Programs using it stop working at once.": (
        "เพิกถอนคีย์นี้? โปรแกรมที่ใช้คีย์นี้จะหยุดทำงานทันที", "撤銷此金鑰？使用它的程式會立即停止運作。",
        "Thu hồi khóa này? Các chương trình đang dùng sẽ ngừng hoạt động ngay.",
        "Batalkan kunci ini? Program yang menggunakannya berhenti serta-merta."),
    "Revoke": ("เพิกถอน", "撤銷", "Thu hồi", "Batalkan"),
    "No keys yet.": ("ยังไม่มีคีย์", "尚無金鑰。", "Chưa có khóa nào.", "Belum ada kunci."),
    "New key": ("คีย์ใหม่", "新金鑰", "Khóa mới", "Kunci baharu"),
    "Create key": ("สร้างคีย์", "建立金鑰", "Tạo khóa", "Cipta kunci"),
    "For example: front counter till.": ("เช่น เครื่องคิดเงินหน้าร้าน", "例如：前台收銀機。",
                                         "Ví dụ: máy tính tiền quầy trước.",
                                         "Contoh: mesin juruwang kaunter depan."),
    # webhooks
    "walletpass tells your other systems what happens (a member joins, points change) by "
    "posting to these addresses.": (
        "walletpass แจ้งระบบอื่นของคุณเมื่อมีเหตุการณ์ (สมาชิกใหม่ แต้มเปลี่ยน) โดยส่งไปยังที่อยู่เหล่านี้",
        "walletpass 會把發生的事（新會員加入、點數變動）傳送到這些網址，通知您的其他系統。",
        "walletpass báo cho các hệ thống khác của bạn điều gì xảy ra (thành viên mới, điểm "
        "thay đổi) bằng cách gửi tới các địa chỉ này.",
        "walletpass memberitahu sistem anda yang lain apa yang berlaku (ahli baharu, mata "
        "berubah) dengan menghantar ke alamat ini."),
    "Copy the signing secret now: it is shown only once.": (
        "คัดลอกรหัสลับสำหรับลงนามตอนนี้ ระบบจะแสดงเพียงครั้งเดียว", "請立即複製簽章密鑰：只會顯示一次。",
        "Hãy sao chép khóa bí mật ký ngay: chỉ hiện một lần.",
        "Salin rahsia tandatangan sekarang: ia dipaparkan sekali sahaja."),
    "Endpoints": ("ปลายทาง", "端點", "Điểm nhận", "Titik akhir"),
    "Remove this webhook?": ("ลบ webhook นี้?", "移除此 Webhook？", "Xóa webhook này?",
                             "Buang webhook ini?"),
    "Remove": ("ลบ", "移除", "Xóa", "Buang"),
    "Event": ("เหตุการณ์", "事件", "Sự kiện", "Peristiwa"),
    "State": ("สถานะ", "狀態", "Trạng thái", "Keadaan"),
    "Answer": ("คำตอบ", "回應", "Phản hồi", "Jawapan"),
    "Resend": ("ส่งอีกครั้ง", "重新傳送", "Gửi lại", "Hantar semula"),
    "No deliveries yet.": ("ยังไม่มีการส่ง", "尚無傳送紀錄。", "Chưa có lần gửi nào.",
                           "Belum ada penghantaran."),
    "No webhooks yet.": ("ยังไม่มี webhook", "尚無 Webhook。", "Chưa có webhook nào.",
                         "Belum ada webhook."),
    "New webhook": ("webhook ใหม่", "新增 Webhook", "Webhook mới", "Webhook baharu"),
    "Address (URL)": ("ที่อยู่ (URL)", "網址（URL）", "Địa chỉ (URL)", "Alamat (URL)"),
    "Events": ("เหตุการณ์", "事件", "Sự kiện", "Peristiwa"),
    "Add webhook": ("เพิ่ม webhook", "新增 Webhook", "Thêm webhook", "Tambah webhook"),
    "pending": ("รอส่ง", "待傳送", "đang chờ", "menunggu"),
    "delivered": ("ส่งแล้ว", "已送達", "đã gửi", "dihantar"),
    "failed": ("ล้มเหลว", "失敗", "thất bại", "gagal"),
    # staff
    "People": ("บุคคล", "成員", "Mọi người", "Orang"),
    "Role": ("ตำแหน่ง", "角色", "Vai trò", "Peranan"),
    "invited": ("ได้รับเชิญ", "已邀請", "đã mời", "dijemput"),
    "Owners can do everything. Managers can do everything but staff and API keys. Cashiers "
    "look members up, add and redeem points.": (
        "เจ้าของทำได้ทุกอย่าง ผู้จัดการทำได้ทุกอย่างยกเว้นพนักงานและคีย์ API แคชเชียร์ค้นหาสมาชิก เพิ่มและแลกแต้ม",
        "擁有者可以做所有事。經理可以做員工與 API 金鑰以外的所有事。收銀員可查詢會員、加點與兌換。",
        "Chủ sở hữu làm được mọi việc. Quản lý làm được mọi việc trừ nhân viên và khóa API. "
        "Thu ngân tra cứu thành viên, cộng và đổi điểm.",
        "Pemilik boleh melakukan semua. Pengurus boleh melakukan semua kecuali kakitangan dan "
        "kunci API. Juruwang mencari ahli, menambah dan menebus mata."),
    "Invite someone": ("เชิญผู้อื่น", "邀請成員", "Mời người khác", "Jemput seseorang"),
    "Invitation sent to {email}.": ("ส่งคำเชิญไปที่ {email} แล้ว", "邀請已寄至 {email}。",
                                    "Đã gửi lời mời tới {email}.", "Jemputan dihantar kepada {email}."),
    "The invitation mail could not be sent; try again later.": (
        "ส่งอีเมลเชิญไม่สำเร็จ โปรดลองอีกครั้งภายหลัง", "邀請郵件無法寄出，請稍後再試。",
        "Không gửi được email mời; hãy thử lại sau.",
        "E-mel jemputan tidak dapat dihantar; cuba lagi kemudian."),
    "Send invitation": ("ส่งคำเชิญ", "寄送邀請", "Gửi lời mời", "Hantar jemputan"),
    # mails
    "Someone asked to reset the password of your walletpass account. Open this link within an "
    "hour to choose a new password:": (
        "มีผู้ขอตั้งรหัสผ่านใหม่สำหรับบัญชี walletpass ของคุณ เปิดลิงก์นี้ภายในหนึ่งชั่วโมงเพื่อตั้งรหัสผ่านใหม่:",
        "有人要求重設您 walletpass 帳戶的密碼。請於一小時內開啟此連結設定新密碼：",
        "Có người yêu cầu đặt lại mật khẩu tài khoản walletpass của bạn. Mở liên kết này "
        "trong vòng một giờ để chọn mật khẩu mới:",
        "Seseorang meminta untuk menetapkan semula kata laluan akaun walletpass anda. Buka "
        "pautan ini dalam masa sejam untuk memilih kata laluan baharu:"),
    "If it was not you, ignore this mail; your password stays the same.": (
        "หากไม่ใช่คุณ ให้เพิกเฉยต่ออีเมลนี้ รหัสผ่านของคุณจะไม่เปลี่ยน", "若不是您本人，請忽略此郵件；您的密碼不會改變。",
        "Nếu không phải bạn, hãy bỏ qua email này; mật khẩu của bạn vẫn giữ nguyên.",
        "Jika bukan anda, abaikan e-mel ini; kata laluan anda kekal sama."),
    "You are invited to join {business} on walletpass as {role}. Open this link within 7 days "
    "to accept:": (
        "คุณได้รับเชิญให้เข้าร่วม {business} บน walletpass ในตำแหน่ง{role} เปิดลิงก์นี้ภายใน 7 วันเพื่อตอบรับ:",
        "您受邀以{role}身分加入 walletpass 上的 {business}。請於 7 天內開啟此連結接受邀請：",
        "Bạn được mời tham gia {business} trên walletpass với vai trò {role}. Mở liên kết này "
        "trong vòng 7 ngày để chấp nhận:",
        "Anda dijemput menyertai {business} di walletpass sebagai {role}. Buka pautan ini dalam "
        "masa 7 hari untuk menerima:"),
    "Invitation to {business}": ("คำเชิญเข้าร่วม {business}", "{business} 的邀請",
                                 "Lời mời tham gia {business}", "Jemputan ke {business}"),
}

CATALOG: dict[str, dict[str, str]] = {
    message: dict(zip(ORDER, texts, strict=True)) for message, texts in _MESSAGES.items()}
