"""The documents of the bilingual retrieval evaluation (bench/kb_bilingual_eval.py).

Thirty made-up company documents, fifteen Chinese and fifteen English, each a few sections
(heading, text), written for this evaluation. Topics do not repeat across the languages, so
a cross-lingual question has exactly one right document. Four topics have a 2022 and a 2024
version that differ only in a few figures (near-duplicates); two are tables of error codes
that differ by one digit. `FORMATS` says how each is uploaded.
"""

# ruff: noqa: E501  (one sentence of data a line)
from __future__ import annotations

Doc = tuple[str, str, list[tuple[str, str]]]  # file name, format, sections (heading, text)

EN: dict[str, Doc] = {
    "printer": (
        "printer-error-codes.pdf",
        "pdf",
        [
            (
                "Printer error E-4017",
                "Error E-4017 means the paper feed sensor is blocked. Open tray 2, remove torn paper from the pickup roller and close the tray; the printer resumes by itself.",
            ),
            (
                "Printer error E-4027",
                "Error E-4027 indicates that the toner cartridge chip cannot be read. Reseat the cartridge; if the error stays, the cartridge is counterfeit or damaged and must be replaced.",
            ),
            (
                "Printer error E-4031",
                "Error E-4031 reports that the fuser unit is overheating. Switch the printer off for thirty minutes and call facilities if it returns within a week.",
            ),
            (
                "Printer error E-5002",
                "Error E-5002 is a failure of the network card. The printer can still print over USB; open a ticket so that the card is swapped.",
            ),
            (
                "Printer error E-5012",
                "Error E-5012 signals a firmware mismatch after an interrupted update. Hold the power button for ten seconds to start the recovery image.",
            ),
        ],
    ),
    "remote_2022": (
        "remote-work-policy-2022.md",
        "md",
        [
            (
                "Remote work policy 2022",
                "This policy is effective from 2022-01-01. Employees may work remotely up to two days a week with their manager's approval.",
            ),
            (
                "Home office equipment",
                "Each employee working remotely receives a one-off home office stipend of 300 US dollars for a chair, a screen or a headset.",
            ),
            (
                "Availability",
                "Remote workers must be reachable on chat between 9:00 and 17:00 and record remote days in the attendance calendar.",
            ),
        ],
    ),
    "remote_2024": (
        "remote-work-policy-2024.md",
        "md",
        [
            (
                "Remote work policy 2024",
                "This policy is effective from 2024-03-01 and replaces the 2022 policy. Employees may work remotely up to three days a week with their manager's approval.",
            ),
            (
                "Home office equipment",
                "Each employee working remotely receives a one-off home office stipend of 500 US dollars for a chair, a screen or a headset.",
            ),
            (
                "Availability",
                "Remote workers must be reachable on chat during the core hours from 10:00 to 15:00 and record remote days in the attendance calendar.",
            ),
        ],
    ),
    "expense_2022": (
        "expense-policy-2022.docx",
        "docx",
        [
            (
                "Expense policy (2022 edition)",
                "Effective 2022-01-01. Expense claims must be submitted within 60 days of the purchase with the original receipts attached.",
            ),
            (
                "Hotels",
                "Hotel rooms are reimbursed up to 180 US dollars per night; suites and minibar charges are never reimbursed.",
            ),
            (
                "Approval",
                "Any single claim above 1,000 US dollars needs the approval of a department head before it is paid.",
            ),
        ],
    ),
    "expense_2024": (
        "expense-policy-2024.docx",
        "docx",
        [
            (
                "Expense policy (2024 edition)",
                "Effective 2024-01-01, replacing the 2022 edition. Expense claims must be submitted within 30 days of the purchase with the original receipts attached.",
            ),
            (
                "Hotels",
                "Hotel rooms are reimbursed up to 220 US dollars per night; suites and minibar charges are never reimbursed.",
            ),
            (
                "Approval",
                "Any single claim above 2,000 US dollars needs the approval of a department head before it is paid.",
            ),
        ],
    ),
    "laptop": (
        "laptop-handbook.txt",
        "txt",
        [
            (
                "Borrowing a laptop",
                "Loan laptops are lent by the IT service desk for up to fourteen days; bring your staff card to borrow one.",
            ),
            (
                "Lost or stolen laptops",
                "A lost or stolen laptop must be reported to the IT service desk within one hour so that the device is locked remotely and its disk encryption keys are revoked.",
            ),
            (
                "Software",
                "Only software from the company portal may be installed; requests for other software take about three working days.",
            ),
        ],
    ),
    "security": (
        "information-security.html",
        "html",
        [
            (
                "Passwords",
                "Passwords must be at least fourteen characters long and are changed only when a compromise is suspected.",
            ),
            (
                "Multi-factor authentication",
                "Multi-factor authentication is mandatory for email and the VPN; hardware keys are issued on request.",
            ),
            (
                "Phishing",
                "Forward suspicious emails to phishing@example.com and do not click any link; the security team answers within four hours.",
            ),
        ],
    ),
    "parental": (
        "parental-leave.pdf",
        "pdf",
        [
            (
                "Parental leave",
                "Parents receive sixteen weeks of paid parental leave, which can be split into two blocks taken within the child's first year.",
            ),
            (
                "Notice",
                "Tell your manager and HR at least eight weeks before the leave starts so that cover can be arranged.",
            ),
            (
                "Returning to work",
                "After parental leave, employees may work part time at 80 percent for up to six months.",
            ),
        ],
    ),
    "parking": (
        "parking-garage.txt",
        "txt",
        [
            (
                "Staff parking",
                "Staff park on levels B1 and B2 of the garage; visitors use level B3 after registering at the front desk.",
            ),
            (
                "Electric cars",
                "Charging points for electric cars are on level B1 and cost 0.25 euros per kWh, billed monthly with the payroll.",
            ),
            (
                "Bicycles",
                "The bicycle room next to the north entrance opens at 6:30 and has lockers and two showers.",
            ),
        ],
    ),
    "shipping": (
        "shipping-and-returns.html",
        "html",
        [
            (
                "Shipping",
                "Orders over 50 euros ship free of charge; smaller orders pay a flat shipping fee of 4.90 euros.",
            ),
            (
                "Returns",
                "Customers may return unused items within 30 days of delivery using the prepaid label in the parcel.",
            ),
            (
                "Refunds",
                "Refunds are paid to the original payment method within five business days of the return arriving at the warehouse.",
            ),
        ],
    ),
    "router": (
        "x200-router-datasheet.pdf",
        "pdf",
        [
            (
                "X200 router hardware",
                "The X200 router has four external antennas, a 1.8 GHz quad-core processor and supports Wi-Fi 6 on both bands.",
            ),
            (
                "Ports",
                "It offers one 2.5 Gbit WAN port, four gigabit LAN ports and one USB 3.0 port for shared storage.",
            ),
            (
                "Warranty",
                "The X200 carries a two-year limited warranty; the power adapter is covered for one year.",
            ),
        ],
    ),
    "fire": (
        "fire-safety.docx",
        "docx",
        [
            (
                "Evacuation",
                "When the fire alarm sounds, leave by the nearest staircase and gather at assembly point C in the east parking lot.",
            ),
            (
                "Drills",
                "Evacuation drills are held twice a year, in April and in October, without prior notice.",
            ),
            (
                "Extinguishers",
                "Fire extinguishers are inspected monthly by the facilities team; report a missing seal immediately.",
            ),
        ],
    ),
    "retention": (
        "data-retention.md",
        "md",
        [
            ("Email", "Business email is retained for seven years and then deleted automatically."),
            (
                "Logs",
                "Application logs are kept for 90 days; security audit logs are kept for two years.",
            ),
            (
                "Backups",
                "Database backups are taken nightly and kept for 35 days in a second region.",
            ),
        ],
    ),
    "gifts": (
        "gifts-and-hospitality.txt",
        "txt",
        [
            (
                "Gifts",
                "Employees may accept gifts worth up to 50 euros from business partners; anything above must be registered with compliance.",
            ),
            (
                "Hospitality",
                "Invitations to events must be approved in advance when travel or hotel costs are paid by the partner.",
            ),
            ("Public officials", "No gifts of any value may be offered to public officials."),
        ],
    ),
    "incident": (
        "incident-response.html",
        "html",
        [
            (
                "Severity levels",
                "A SEV1 incident is a full outage and must be acknowledged within 15 minutes; a SEV2 incident within one hour; a SEV3 incident by the next business day.",
            ),
            (
                "Post-mortems",
                "Every SEV1 and SEV2 incident gets a written post-mortem within five working days.",
            ),
            (
                "On call",
                "The on-call engineer rotates weekly and receives a standby allowance of 200 euros per week.",
            ),
        ],
    ),
}

ZH: dict[str, Doc] = {
    "faults": (
        "设备故障代码手册.docx",
        "docx",
        [
            (
                "故障码 F-201",
                "故障码 F-201 表示主电源欠压，请检查输入电压是否低于 180 伏，并确认空气开关已合上。",
            ),
            (
                "故障码 F-210",
                "故障码 F-210 表示冷却风扇停转，须立即停机并清理风扇滤网，更换风扇后方可重新启动。",
            ),
            (
                "故障码 F-301",
                "故障码 F-301 表示温度传感器断线，请检查传感器插头是否松动，必要时更换传感器。",
            ),
            ("故障码 F-310", "故障码 F-310 表示与控制柜通信超时，请检查网线连接并重启通信模块。"),
            ("故障码 F-401", "故障码 F-401 表示电机过载，请减轻负载并等待电机冷却十分钟后复位。"),
        ],
    ),
    "travel_2022": (
        "差旅管理办法（2022年版）.md",
        "md",
        [
            (
                "差旅管理办法（2022年版）",
                "本办法自2022年1月1日起施行，适用于公司全体员工的国内出差。",
            ),
            (
                "住宿标准",
                "一线城市住宿费每晚不超过500元，其他城市每晚不超过350元，超出部分由个人承担。",
            ),
            (
                "交通工具",
                "员工出差乘坐高铁二等座，部门总监及以上可乘坐一等座，飞机一律乘坐经济舱。",
            ),
        ],
    ),
    "travel_2024": (
        "差旅管理办法（2024年版）.md",
        "md",
        [
            (
                "差旅管理办法（2024年版）",
                "本办法自2024年3月1日起施行，2022年版同时废止，适用于公司全体员工的国内出差。",
            ),
            (
                "住宿标准",
                "一线城市住宿费每晚不超过650元，其他城市每晚不超过450元，超出部分由个人承担。",
            ),
            (
                "交通工具",
                "员工出差乘坐高铁二等座，部门经理及以上可乘坐一等座，飞机一律乘坐经济舱。",
            ),
        ],
    ),
    "leave_2022": (
        "年假制度2022.docx",
        "docx",
        [
            (
                "年假制度（2022年）",
                "本制度自2022年起执行。员工工作满一年不满十年的，每年享有带薪年假五天；满十年的，每年十天。",
            ),
            ("未休年假", "当年未休完的年假可以顺延至次年三月底，逾期作废，不折算工资。"),
            ("申请流程", "年假须提前一周在人事系统提交申请，由直属上级审批。"),
        ],
    ),
    "leave_2024": (
        "年假制度2024.docx",
        "docx",
        [
            (
                "年假制度（2024年）",
                "本制度自2024年起执行，替代2022年制度。员工工作满一年不满十年的，每年享有带薪年假七天；满十年的，每年十二天。",
            ),
            ("未休年假", "当年未休完的年假可以顺延至次年六月底，逾期作废，不折算工资。"),
            ("申请流程", "年假须提前一周在人事系统提交申请，由直属上级审批。"),
        ],
    ),
    "canteen": (
        "食堂就餐须知.txt",
        "txt",
        [
            (
                "开放时间",
                "公司食堂早餐供应时间为七点半到九点，午餐供应时间为十一点半到下午一点半。",
            ),
            ("餐补", "员工每餐享受十五元餐补，餐补直接充入工卡，当月有效。"),
            ("外卖", "食堂不提供外卖服务，访客就餐须由接待部门提前登记。"),
        ],
    ),
    "badge": (
        "门禁卡管理规定.html",
        "html",
        [
            ("挂失", "门禁卡遗失须在二十四小时内向行政部挂失，挂失后原卡立即失效。"),
            ("补办", "补办门禁卡收取工本费五十元，三个工作日内领取新卡。"),
            ("访客", "访客须在前台登记身份证件，领取临时门禁卡，离开时归还。"),
        ],
    ),
    "rooms": (
        "会议室预订指南.md",
        "md",
        [
            ("预订方式", "会议室通过OA系统预订，最多可提前十四天预订，单次预订不超过四小时。"),
            ("会议室容量", "大会议室可容纳十八人，配有视频会议设备；小会议室可容纳六人。"),
            (
                "取消规则",
                "不再使用的会议室须至少提前两小时取消，连续三次未使用且未取消者暂停预订权限一个月。",
            ),
        ],
    ),
    "overtime": (
        "加班管理办法.txt",
        "txt",
        [
            (
                "加班费",
                "工作日加班按基本工资的一点五倍支付加班费，休息日加班按两倍支付，法定节假日加班按三倍支付。",
            ),
            ("调休", "休息日加班可以申请调休，调休须在加班后六个月内使用完毕。"),
            ("审批", "加班须事先在OA系统提交申请，未经审批的加班不计加班费。"),
        ],
    ),
    "warranty": (
        "产品保修政策.docx",
        "docx",
        [
            ("保修期限", "整机保修期为一年，电池保修期为六个月，自购买发票开具之日起计算。"),
            ("不在保修范围", "进水、摔落等人为损坏以及私自拆机的产品不在保修范围内。"),
            ("送修方式", "用户可将产品寄回维修中心，维修中心收到后七个工作日内修复并寄回。"),
        ],
    ),
    "support": (
        "客户服务规范.html",
        "html",
        [
            ("服务热线", "客户服务热线为400-820-1234，服务时间为每天九点至二十一点。"),
            ("投诉处理", "客户投诉须在四十八小时内给予书面回复，重大投诉须上报客服总监。"),
            ("满意度回访", "工单关闭后三天内进行电话回访，记录客户满意度评分。"),
        ],
    ),
    "housing": (
        "社保与公积金说明.md",
        "md",
        [
            ("住房公积金", "公司与员工的住房公积金缴存比例均为百分之十二，每月随工资发放时缴存。"),
            ("社保基数", "社会保险缴费基数每年七月根据员工上一年度月平均工资调整一次。"),
            ("补充医疗", "公司为员工购买补充医疗保险，门诊费用报销比例为百分之八十。"),
        ],
    ),
    "seals": (
        "印章管理制度.txt",
        "txt",
        [
            ("用印审批", "使用公章须经法务部审核合同文本，并由分管副总经理审批。"),
            ("用印登记", "每次用印须在用印登记簿上记录日期、文件名称、份数和经办人。"),
            ("外借", "公章原则上不得外借，确需外带的须两人同行并在当日归还。"),
        ],
    ),
    "review": (
        "绩效考核办法.docx",
        "docx",
        [
            ("考核周期", "绩效考核每季度进行一次，年度结果为四个季度结果的加权平均。"),
            ("考核等级", "考核等级分为S、A、B、C四级，其中S级人数不超过部门人数的百分之十。"),
            ("结果应用", "连续两个季度考核为C级的员工须参加绩效改进计划，为期两个月。"),
        ],
    ),
    "warehouse": (
        "仓库安全规程.html",
        "html",
        [
            ("叉车作业", "仓库内叉车行驶速度不得超过每小时五公里，叉车司机须持证上岗。"),
            ("货架承重", "货架每层限重八百公斤，重物须放在底层，严禁攀爬货架。"),
            ("消防通道", "消防通道宽度不得小于一点五米，任何时候不得堆放货物。"),
        ],
    ),
}
