"""A commune's posted documents as `kiosk serve --demo` shows them and docs/information-point.md describes them: the
counter's rules and a fee table of real commune-level fees. An EXAMPLE written from the usual texts (Luật Hộ tịch
2014 Điều 11, Thông tư 226/2016/TT-BTC on certification fees): a commune posts its own, never this one."""

from __future__ import annotations

from typing import Any

RULES_ID = "a0000000000000000000000000000001"
FEES_ID = "a0000000000000000000000000000002"
FORM_ID = "a0000000000000000000000000000003"

RULES_TEXT = """1. Công dân, tổ chức đến giao dịch lấy số thứ tự tại máy và chờ đến lượt theo số được gọi.
2. Người cao tuổi, người khuyết tật, phụ nữ mang thai, người có con nhỏ dưới 36 tháng được ưu tiên: xin báo công chức.
3. Mang đủ giấy tờ theo danh sách của thủ tục (tra cứu tại máy: "Tra cứu thủ tục"); nộp phí, lệ phí theo bảng niêm yết.
4. Giữ trật tự, không hút thuốc, không mang vũ khí, chất dễ cháy vào nơi làm việc.
5. Công chức không nhận bất kỳ khoản tiền nào ngoài phí, lệ phí niêm yết; có biên lai cho mỗi khoản thu.
6. Góp ý, phản ánh: hòm thư góp ý tại máy, hoặc gặp lãnh đạo UBND xã.
Giờ làm việc: sáng 7 giờ 30 – 11 giờ 30, chiều 13 giờ 30 – 17 giờ, từ thứ Hai đến thứ Sáu."""

FEE_ROWS: list[dict[str, str]] = [
    {"name": "Chứng thực bản sao từ bản chính", "amount": "2.000 đ/trang",
     "note": "từ trang thứ ba: 1.000 đ/trang, tối đa 200.000 đ/bản"},
    {"name": "Chứng thực chữ ký", "amount": "10.000 đ", "note": "mỗi trường hợp"},
    {"name": "Chứng thực hợp đồng, giao dịch", "amount": "50.000 đ", "note": "mỗi hợp đồng, giao dịch"},
    {"name": "Sửa đổi, bổ sung hợp đồng, giao dịch đã chứng thực", "amount": "30.000 đ", "note": ""},
    {"name": "Đăng ký khai sinh, khai tử đúng hạn; đăng ký kết hôn", "amount": "Miễn lệ phí",
     "note": "Luật Hộ tịch 2014, Điều 11"},
]  # fmt: skip

EXAMPLE_POSTED: list[dict[str, Any]] = [
    {"id": RULES_ID, "kind": "rules", "title": "Nội quy Bộ phận Một cửa", "body": RULES_TEXT, "rows": [],
     "file": None, "shown_from": None, "shown_to": None},
    {"id": FEES_ID, "kind": "fees", "title": "Bảng phí, lệ phí (cấp xã)", "body": "", "rows": FEE_ROWS,
     "file": None, "shown_from": None, "shown_to": None},
]  # fmt: skip

FORM_TITLE = "Tờ khai đăng ký khai sinh"
FORM_LINES = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "",
    "TỜ KHAI ĐĂNG KÝ KHAI SINH",
    "",
    "Kính gửi: UBND xã ..............................",
    "Họ, chữ đệm, tên người yêu cầu: ..............................",
    "Nơi cư trú: ..................................................",
    "Giấy tờ tùy thân: ............................................",
    "Quan hệ với người được khai sinh: ............................",
    "Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:",
    "Họ, chữ đệm, tên: ............................................",
    "Ngày, tháng, năm sinh: ....../....../...........  Giới tính: ......",
    "Nơi sinh: ....................................................",
    "(Bản mẫu minh họa của chế độ --demo; dùng mẫu chính thức của Bộ Tư pháp.)",
]
