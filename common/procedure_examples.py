"""A few real commune-level procedures, as a province's list gives them: the example of docs/procedures.md, and
what `kiosk serve --demo` shows. An EXAMPLE written from the usual decisions (fees and times as most provinces
publish them): a commune imports its own province's list, never this one."""

from __future__ import annotations

from typing import Any

RESULT_AT = "Bộ phận Một cửa UBND xã (trực tiếp hoặc qua dịch vụ bưu chính)"

EXAMPLE_PROCEDURES: list[dict[str, Any]] = [
    {
        "code": "1.001193",
        "service": "HT",
        "name": "Đăng ký khai sinh",
        "papers": [
            {"name": "Tờ khai đăng ký khai sinh (theo mẫu)", "copies": 1},
            {"name": "Giấy chứng sinh (hoặc văn bản của người làm chứng)", "copies": 1},
            {"name": "Giấy tờ tùy thân của người đi đăng ký (xuất trình)", "copies": 1},
        ],
        "forms": ["Tờ khai đăng ký khai sinh"],
        "fee": "Miễn lệ phí (đăng ký đúng hạn)",
        "days": 0,
        "result_at": RESULT_AT,
    },
    {
        "code": "1.000894",
        "service": "HT",
        "name": "Đăng ký kết hôn",
        "papers": [
            {"name": "Tờ khai đăng ký kết hôn (theo mẫu)", "copies": 1},
            {"name": "Giấy tờ tùy thân của hai bên nam, nữ (xuất trình)", "copies": 2},
            {"name": "Giấy xác nhận tình trạng hôn nhân (nếu đăng ký ở nơi khác nơi cư trú)", "copies": 1},
        ],
        "forms": ["Tờ khai đăng ký kết hôn"],
        "fee": "Miễn lệ phí",
        "days": 0,
        "result_at": RESULT_AT,
    },
    {
        "code": "1.000656",
        "service": "HT",
        "name": "Đăng ký khai tử",
        "papers": [
            {"name": "Tờ khai đăng ký khai tử (theo mẫu)", "copies": 1},
            {"name": "Giấy báo tử hoặc giấy tờ thay Giấy báo tử", "copies": 1},
        ],
        "forms": ["Tờ khai đăng ký khai tử"],
        "fee": "Miễn lệ phí (đăng ký đúng hạn)",
        "days": 0,
        "result_at": RESULT_AT,
    },
    {
        "code": "1.004873",
        "service": "HT",
        "name": "Cấp Giấy xác nhận tình trạng hôn nhân",
        "papers": [
            {"name": "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân (theo mẫu)", "copies": 1},
            {"name": "Bản án, quyết định ly hôn hoặc giấy chứng tử (nếu đã có vợ/chồng)", "copies": 1},
        ],
        "forms": ["Tờ khai cấp Giấy xác nhận tình trạng hôn nhân"],
        "fee": "Theo mức HĐND tỉnh quy định",
        "days": 3,
        "result_at": RESULT_AT,
    },
    {
        "code": "2.000908",
        "service": "CT",
        "name": "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "papers": [
            {"name": "Bản chính giấy tờ, văn bản cần chứng thực", "copies": 1},
            {"name": "Bản sao cần chứng thực (nếu tự sao)", "copies": 1},
        ],
        "forms": [],
        "fee": "2.000 đồng/trang; từ trang thứ ba 1.000 đồng/trang, tối đa 200.000 đồng/bản",
        "days": 0,
        "result_at": "Bộ phận Một cửa UBND xã, ngay trong ngày",
    },
    {
        "code": "2.000884",
        "service": "CT",
        "name": "Chứng thực chữ ký trong giấy tờ, văn bản",
        "papers": [
            {"name": "Giấy tờ tùy thân còn giá trị (bản chính hoặc bản sao có chứng thực)", "copies": 1},
            {"name": "Giấy tờ, văn bản cần chứng thực chữ ký", "copies": 1},
        ],
        "forms": [],
        "fee": "10.000 đồng/trường hợp",
        "days": 0,
        "result_at": "Bộ phận Một cửa UBND xã, ngay trong ngày",
    },
    {
        "code": "1.001776",
        "service": "BT",
        "name": "Thực hiện trợ cấp xã hội hằng tháng",
        "papers": [
            {"name": "Tờ khai đề nghị trợ cấp xã hội (theo mẫu)", "copies": 1},
            {"name": "Giấy tờ tùy thân hoặc giấy khai sinh của người được trợ cấp (bản sao)", "copies": 1},
        ],
        "forms": ["Tờ khai đề nghị trợ cấp xã hội"],
        "fee": "Không",
        "days": 12,
        "result_at": RESULT_AT,
    },
]
