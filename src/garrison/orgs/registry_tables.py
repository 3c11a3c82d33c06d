"""The registry's spreadsheet tables and the headers people give their columns.

The first alias of each column is the Vietnamese header used on export; English and
unaccented spellings are accepted on import.
"""

from __future__ import annotations

from garrison.core.tabular import ColumnSpec, TableSpec

_OWNER = ColumnSpec(
    "organisation",
    (
        "Đơn vị",
        "Tên đơn vị",
        "Đơn vị quản lý",
        "Cơ quan",
        "Tên cơ quan",
        "Đơn vị sở hữu",
        "Chủ quản",
        "owner",
        "organization",
        "organisation name",
        "organization name",
        "org",
    ),
    required=True,
)

ORGANISATIONS = TableSpec(
    "organisations",
    (
        ColumnSpec(
            "name",
            (
                "Tên đơn vị",
                "Tên cơ quan",
                "Đơn vị",
                "Cơ quan",
                "organisation",
                "organization",
                "organisation name",
                "organization name",
            ),
            required=True,
        ),
        ColumnSpec(
            "short_name",
            (
                "Tên viết tắt",
                "Viết tắt",
                "Mã đơn vị",
                "Ký hiệu",
                "short name",
                "abbreviation",
                "code",
            ),
        ),
        ColumnSpec(
            "kind", ("Loại đơn vị", "Loại hình", "Loại", "Phân loại", "kind", "type"), required=True
        ),
        ColumnSpec(
            "parent",
            (
                "Đơn vị cấp trên",
                "Cơ quan chủ quản",
                "Đơn vị chủ quản",
                "Trực thuộc",
                "parent",
                "parent organisation",
                "parent organization",
            ),
        ),
        ColumnSpec("notes", ("Ghi chú", "notes", "note", "remarks")),
    ),
    sheet_names=("Đơn vị", "Danh sách đơn vị", "Cơ quan", "organisations", "organizations"),
)

CONTACTS = TableSpec(
    "contacts",
    (
        _OWNER,
        ColumnSpec(
            "name",
            (
                "Họ và tên",
                "Họ tên",
                "Người liên hệ",
                "Cán bộ",
                "contact",
                "contact name",
                "full name",
                "name",
            ),
            required=True,
        ),
        ColumnSpec("role", ("Chức vụ", "Vai trò", "Nhiệm vụ", "role", "position", "title")),
        ColumnSpec("email", ("Thư điện tử", "Email", "E-mail", "Địa chỉ email", "mail")),
        ColumnSpec(
            "phones",
            (
                "Số điện thoại",
                "Điện thoại",
                "SĐT",
                "Di động",
                "phone",
                "phones",
                "telephone",
                "mobile",
            ),
        ),
        ColumnSpec("language", ("Ngôn ngữ", "language", "lang")),
    ),
    sheet_names=("Đầu mối", "Liên hệ", "Người liên hệ", "contacts"),
)

NETWORKS = TableSpec(
    "networks",
    (
        _OWNER,
        ColumnSpec(
            "network",
            (
                "Dải IP",
                "Dải địa chỉ IP",
                "Địa chỉ IP",
                "Dải mạng",
                "Vùng IP",
                "IP",
                "CIDR",
                "network",
                "networks",
                "IP range",
                "prefix",
                "subnet",
            ),
            required=True,
        ),
        ColumnSpec("description", ("Mô tả", "Diễn giải", "Ghi chú", "description", "notes")),
    ),
    sheet_names=("Dải IP", "Mạng", "Địa chỉ IP", "networks", "IP ranges"),
)

DOMAINS = TableSpec(
    "domains",
    (
        _OWNER,
        ColumnSpec(
            "domain",
            ("Tên miền", "Tên miền chính", "domain", "domain name", "domains"),
            required=True,
        ),
    ),
    sheet_names=("Tên miền", "domains"),
)

ASSETS = TableSpec(
    "assets",
    (
        _OWNER,
        ColumnSpec(
            "name",
            (
                "Tên tài sản",
                "Tên hệ thống",
                "Tên máy chủ",
                "Hệ thống thông tin",
                "Tài sản",
                "asset",
                "asset name",
                "system",
                "system name",
            ),
            required=True,
        ),
        ColumnSpec("kind", ("Loại tài sản", "Loại thiết bị", "Loại", "kind", "type", "asset type")),
        ColumnSpec(
            "addresses", ("Địa chỉ IP", "IP", "Các địa chỉ IP", "IP addresses", "addresses", "ips")
        ),
        ColumnSpec(
            "hostnames", ("Tên máy", "Hostname", "Tên miền", "hostnames", "host names", "FQDN")
        ),
        ColumnSpec("operating_system", ("Hệ điều hành", "HĐH", "operating system", "OS")),
        ColumnSpec(
            "security_level",
            (
                "Cấp độ",
                "Cấp độ an toàn",
                "Cấp độ ATTT",
                "Cấp độ hệ thống",
                "security level",
                "level",
            ),
        ),
        ColumnSpec(
            "level_approved_on",
            (
                "Ngày phê duyệt",
                "Ngày phê duyệt cấp độ",
                "Ngày duyệt",
                "approved on",
                "approval date",
                "level approved on",
            ),
        ),
        ColumnSpec(
            "internet_facing",
            (
                "Kết nối Internet",
                "Công khai Internet",
                "Truy cập từ Internet",
                "internet facing",
                "internet-facing",
                "public",
            ),
        ),
        ColumnSpec("notes", ("Ghi chú", "notes", "note")),
    ),
    sheet_names=("Tài sản", "Hệ thống", "Hệ thống thông tin", "assets", "systems"),
)

COMPONENTS = TableSpec(
    "components",
    (
        _OWNER,
        ColumnSpec(
            "asset",
            ("Tài sản", "Tên tài sản", "Hệ thống", "Tên hệ thống", "asset", "asset name", "system"),
            required=True,
        ),
        ColumnSpec("cpe", ("CPE", "CPE 2.3", "cpe23", "cpe name")),
        ColumnSpec("purl", ("purl", "package url")),
        ColumnSpec("vendor", ("Nhà cung cấp", "Hãng", "Nhà sản xuất", "vendor", "publisher")),
        ColumnSpec(
            "product", ("Phần mềm", "Sản phẩm", "Tên phần mềm", "product", "software", "package")
        ),
        ColumnSpec("version", ("Phiên bản", "version")),
    ),
    sheet_names=("Phần mềm", "Thành phần", "components", "software"),
)

REGISTRY_TABLES = (ORGANISATIONS, CONTACTS, NETWORKS, DOMAINS, ASSETS, COMPONENTS)
