"""Original text and numbers for the example task folder: a fictional rooftop-solar and community-storage
pilot in the fictional "梧桐社区, 青川市". Every file of the folder draws on the figures defined here, so
the paper, the slides, the spreadsheet, the poster, the video and the article corpus agree with each other.

All names, places and figures are invented for demonstration.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SEED = 20240615
DISCLAIMER = "本资料为 sourcebook 示例材料，所涉地点、机构、人物与数据均为虚构。"

# --------------------------------------------------------------------------------------------------------
# Facts shared by every file
# --------------------------------------------------------------------------------------------------------

CITY = "青川市"
COMMUNITY = "梧桐社区"
COOP = "梧桐社区能源合作社"
PERIOD = "2023年7月至2024年6月"
HOUSEHOLDS = 312
ROOFS = 20
PV_KWP = 1260
ROOF_AREA_M2 = 14800
STORAGE_KW = 500
STORAGE_KWH = 1000
PEAK_PRICE = 0.98    # 元/kWh
VALLEY_PRICE = 0.32  # 元/kWh
PV_COST_YUAN_PER_W = 3.5
STORAGE_COST_YUAN_PER_WH = 1.2
GRID_EF_KG_PER_KWH = 0.57
EVENING_PEAK_CUT = 22.0  # % reduction of the 18:00–21:00 community peak
BILL_SAVING = 12.4       # % average household bill saving

MONTHS = ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12",
          "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
MONTH_LABELS = ["7月", "8月", "9月", "10月", "11月", "12月", "1月", "2月", "3月", "4月", "5月", "6月"]
# monthly PV generation in MWh (sums to 1386)
GENERATION_MWH = [142, 138, 121, 108, 89, 74, 78, 90, 115, 132, 151, 148]
# share of the generation used inside the community, without and with the storage system
SELF_USE_PV_ONLY = [0.55, 0.56, 0.58, 0.60, 0.62, 0.64, 0.63, 0.61, 0.59, 0.57, 0.54, 0.55]
SELF_USE_WITH_STORAGE = [0.78, 0.79, 0.81, 0.83, 0.85, 0.86, 0.86, 0.84, 0.82, 0.80, 0.77, 0.78]


@dataclass(frozen=True)
class MonthRow:
    """One month of the pilot's operating data."""

    month: str
    label: str
    generation_mwh: float
    self_use_mwh: float
    export_mwh: float
    storage_discharge_mwh: float
    self_use_ratio: float
    self_use_ratio_pv_only: float


def monthly_rows() -> list[MonthRow]:
    """The twelve months of operating data (deterministic)."""
    rows = []
    for month, label, gen, r0, r1 in zip(MONTHS, MONTH_LABELS, GENERATION_MWH, SELF_USE_PV_ONLY,
                                         SELF_USE_WITH_STORAGE, strict=True):
        self_use = round(gen * r1, 1)
        discharge = round(gen * (r1 - r0) * 0.93, 1)  # round-trip losses of about 7 %
        rows.append(MonthRow(month, label, float(gen), self_use, round(gen - self_use, 1), discharge, r1, r0))
    return rows


def totals() -> dict[str, float]:
    """Year totals derived from :func:`monthly_rows`."""
    rows = monthly_rows()
    gen = sum(r.generation_mwh for r in rows)
    self_use = sum(r.self_use_mwh for r in rows)
    pv_only = sum(r.generation_mwh * r.self_use_ratio_pv_only for r in rows)
    discharge = sum(r.storage_discharge_mwh for r in rows)
    pv_cost = PV_KWP * 1000 * PV_COST_YUAN_PER_W / 1e4   # 万元
    st_cost = STORAGE_KWH * 1000 * STORAGE_COST_YUAN_PER_WH / 1e4
    return {
        "generation_mwh": gen,
        "self_use_mwh": round(self_use, 1),
        "export_mwh": round(gen - self_use, 1),
        "discharge_mwh": round(discharge, 1),
        "self_use_ratio": round(100 * self_use / gen, 1),
        "self_use_ratio_pv_only": round(100 * pv_only / gen, 1),
        "specific_yield": round(gen * 1000 / PV_KWP),
        "co2_t": round(gen * GRID_EF_KG_PER_KWH),
        "pv_cost_wan": round(pv_cost, 1),
        "storage_cost_wan": round(st_cost, 1),
        "invest_wan": round(pv_cost + st_cost, 1),
        "payback_years": 7.8,
    }


@dataclass(frozen=True)
class Building:
    """One roof of the pilot."""

    code: str
    name: str
    kind: str
    roof_m2: int
    pv_kwp: int
    commissioned: str


def buildings() -> list[Building]:
    """Twenty roofs whose areas and capacities add up to the pilot totals (seeded)."""
    rng = random.Random(SEED)
    names = [f"{i}号楼" for i in range(1, 19)] + ["社区服务中心", "社区卫生服务站"]
    kinds = ["住宅"] * 18 + ["公共建筑", "公共建筑"]
    weights = [rng.uniform(0.8, 1.2) for _ in names]
    weights[18] *= 1.6
    weights[19] *= 1.3
    total_w = sum(weights)
    areas = [int(ROOF_AREA_M2 * w / total_w) for w in weights]
    areas[-1] += ROOF_AREA_M2 - sum(areas)
    kwps = [int(PV_KWP * a / ROOF_AREA_M2) for a in areas]
    kwps[-1] += PV_KWP - sum(kwps)
    dates = ["2023-05", "2023-05", "2023-06", "2023-06"]
    out = []
    for i, (name, kind, area, kwp) in enumerate(zip(names, kinds, areas, kwps, strict=True)):
        out.append(Building(f"WT-{i + 1:02d}", name, kind, area, kwp, dates[i % len(dates)]))
    return out


# --------------------------------------------------------------------------------------------------------
# Paper
# --------------------------------------------------------------------------------------------------------

PAPER_TITLE = "城市屋顶光伏与社区储能协同运行研究——以青川市梧桐社区试点为例"
PAPER_TITLE_EN = "Coordinated Operation of Urban Rooftop PV and Community Energy Storage: The Wutong Pilot"
PAPER_AUTHORS = "林晓舟, 周蔓, 何立川"
PAPER_AFFILIATION = "青川市城市能源研究所（虚构机构）"
PAPER_KEYWORDS = "屋顶光伏; 社区储能; 自用率; 峰谷电价; 能源合作社"


def paper_sections() -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) of the paper; the results table is inserted after section 4's first paragraph."""
    t = totals()
    return [
        ("摘要", [
            f"本文总结了{CITY}{COMMUNITY}“屋顶光伏＋社区储能”试点在{PERIOD}一年间的运行情况。试点在{ROOFS}栋建筑"
            f"屋顶上安装光伏组件{PV_KWP:,}千瓦（kWp），并在社区配电室旁建设一套{STORAGE_KW}千瓦／{STORAGE_KWH:,}千瓦时的"
            f"磷酸铁锂储能系统，由{COOP}统一运营。全年光伏发电量{t['generation_mwh']:,.0f}兆瓦时，"
            f"社区内部自用比例由仅光伏时的{t['self_use_ratio_pv_only']}%提高到{t['self_use_ratio']}%，"
            f"晚高峰（18:00–21:00）社区最大负荷下降{EVENING_PEAK_CUT}%，参与家庭平均电费下降{BILL_SAVING}%。"
            "结果表明，在峰谷价差明显的城市老旧小区，分布式光伏与小规模储能的组合具有可复制的经济性与社会效益。",
            f"关键词：{PAPER_KEYWORDS}",
        ]),
        ("1 引言", [
            "城市建成区土地稀缺，屋顶是少有的可以大规模利用而不额外占地的太阳能资源。过去十年，组件价格持续下降，"
            "分布式光伏（distributed PV）在工商业屋顶上已经相当普遍，但在居民小区，尤其是产权分散的老旧小区，推进速度"
            "仍然较慢。主要障碍包括：屋顶产权与维护责任不清、白天发电与居民晚间用电错位、以及单户装机规模小导致的"
            "交易成本偏高。",
            "社区储能（community energy storage）为解决时间错位问题提供了一条路径：白天把多余的光伏电量存起来，"
            "在傍晚用电高峰时释放，从而提高本地消纳比例并降低配电变压器的峰值压力。与每户分散安装家用电池相比，"
            "集中式的社区储能单位造价更低，也便于统一的安全管理。",
            f"本文以{COMMUNITY}为例，回答三个问题：第一，储能的加入能在多大程度上提高光伏自用率；第二，"
            "项目的经济性如何，居民能否直接受益；第三，合作社式的运营安排在实践中遇到了哪些问题。",
        ]),
        ("2 项目概况", [
            f"{COMMUNITY}建于本世纪初，共有住宅楼18栋、公共建筑2栋，常住{HOUSEHOLDS}户参与试点。经结构安全评估，"
            f"可利用屋顶面积约{ROOF_AREA_M2:,}平方米。光伏系统采用单晶硅组件，按楼栋分为{ROOFS}个子阵列，"
            f"总装机{PV_KWP:,}千瓦，于2023年5月至6月分批并网。",
            f"储能系统为两个预制舱，合计功率{STORAGE_KW}千瓦、容量{STORAGE_KWH:,}千瓦时，电芯为磷酸铁锂（LFP），"
            "配备舱级消防与温控。能量管理系统（EMS）每15分钟根据光伏预测、负荷预测和分时电价安排充放电计划。",
            f"项目由居民自愿入股成立的{COOP}持有并运营，屋顶使用权通过业主大会表决授权。"
            f"光伏与储能的总投资约{t['invest_wan']}万元，其中光伏约{t['pv_cost_wan']}万元、储能约{t['storage_cost_wan']}万元，"
            "资金来源为合作社股金、市级绿色低碳专项补助和银行绿色贷款。",
        ]),
        ("3 数据与方法", [
            "本文使用EMS记录的15分钟级数据，包括各子阵列发电功率、储能充放电功率与荷电状态（SOC），以及社区总进线的"
            "有功功率。居民电费数据来自合作社与参与家庭签署的数据使用协议，已做匿名化处理。",
            "自用率定义为社区内部消纳的光伏电量占光伏总发电量的比例；“仅光伏”情景通过在同一数据上去掉储能"
            "充放电后重新计算得到。晚高峰负荷削减以2022年同期（试点前）的日最大负荷均值为基线。",
            f"经济性评价按分时电价计算：高峰电价{PEAK_PRICE}元/千瓦时，低谷电价{VALLEY_PRICE}元/千瓦时；"
            f"减排量按电网平均排放因子{GRID_EF_KG_PER_KWH}千克二氧化碳/千瓦时估算。",
        ]),
        ("4 结果", [
            f"表1汇总了试点一年的主要指标。全年发电{t['generation_mwh']:,.0f}兆瓦时，折合等效利用小时约"
            f"{t['specific_yield']:,}小时；其中社区自用{t['self_use_mwh']:,}兆瓦时，上网{t['export_mwh']:,}兆瓦时，"
            f"储能全年放电{t['discharge_mwh']:,}兆瓦时。",
            "从月度分布看，发电量在5月最高（151兆瓦时），12月最低（74兆瓦时）。冬季光伏出力较小，大部分电量可以"
            "被社区直接消纳，储能带来的自用率提升幅度相对有限；夏季午间出力大、居民白天外出，储能的作用最为明显。",
            f"储能对晚高峰的影响同样显著：18:00–21:00的社区最大负荷平均下降{EVENING_PEAK_CUT}%，配电变压器的"
            f"重载时长明显缩短。按分时电价结算，参与家庭全年平均电费下降{BILL_SAVING}%；全年估算减少二氧化碳排放约"
            f"{t['co2_t']:,}吨。",
        ]),
        ("5 讨论", [
            "试点也暴露出一些问题。其一，部分楼栋屋顶防水层老化，安装前的修缮增加了约8%的成本；其二，合作社的"
            "财务与运维能力需要专业机构辅助，初期出现过结算延迟；其三，现行并网与计量规则对“社区内部共享”的"
            "电量缺乏明确的结算口径，只能通过合作社内部分红间接实现。",
            f"按当前电价与补助政策测算，项目静态投资回收期约{t['payback_years']}年。如果峰谷价差进一步扩大，或者储能"
            "参与需求响应、虚拟电厂（virtual power plant, VPP）获得额外收益，回收期还有缩短空间。",
        ]),
        ("6 结论与建议", [
            "第一，在老旧小区推广屋顶光伏时，应同步考虑社区级储能，以提高自用率并缓解晚高峰压力。第二，合作社模式"
            "能够较好地处理屋顶产权分散问题，但需要规范的章程、透明的收益分配和专业运维支持。第三，建议主管部门"
            "明确社区内部电量共享的计量与结算规则，并在老旧小区改造中预留光伏与储能的安装条件。",
            DISCLAIMER,
        ]),
        ("参考资料", [
            "[1] 梧桐社区能源合作社.《梧桐社区屋顶光伏与储能试点季度简报》（演示文稿），2024.",
            "[2] 梧桐社区能源合作社.《试点运行月度数据》（电子表格），2024.",
            "[3] 青川市城市能源研究所.《社区储能运行说明》（视频简报），2024.",
        ]),
    ]


def results_table() -> list[list[str]]:
    """Table 1 of the paper: header row first."""
    t = totals()
    return [
        ["指标", "仅光伏", "光伏＋储能"],
        ["光伏自用率", f"{t['self_use_ratio_pv_only']}%", f"{t['self_use_ratio']}%"],
        ["晚高峰最大负荷变化", "-3.1%", f"-{EVENING_PEAK_CUT}%"],
        ["户均电费节省", "7.9%", f"{BILL_SAVING}%"],
        ["年发电量（兆瓦时）", f"{t['generation_mwh']:,.0f}", f"{t['generation_mwh']:,.0f}"],
        ["年减排二氧化碳（吨）", f"{t['co2_t']:,}", f"{t['co2_t']:,}"],
    ]


# --------------------------------------------------------------------------------------------------------
# Slides
# --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Slide:
    """One slide: title, bullet lines, speaker notes, optional table rows."""

    title: str
    bullets: list[str]
    notes: str
    table: list[list[str]] = field(default_factory=list)


def slides() -> list[Slide]:
    """Five slides of the pilot's quarterly briefing."""
    t = totals()
    return [
        Slide("梧桐社区屋顶光伏与储能试点：年度简报",
              [f"{COOP}", "Rooftop PV + Community Storage Pilot, 2023–2024", DISCLAIMER],
              "开场：介绍试点的背景与本次汇报的范围，数据覆盖" + PERIOD + "。"),
        Slide("为什么要做社区储能",
              ["居民用电高峰在傍晚，光伏出力高峰在中午", "单户电池成本高、安全管理难",
               "社区集中储能：统一调度，单位造价更低"],
              "强调时间错位是老旧小区光伏消纳的核心问题，社区储能比户用电池更经济、更安全。"),
        Slide("系统配置",
              ["按楼栋划分子阵列，统一接入社区配电室"],
              f"光伏共{ROOFS}个子阵列，储能两个预制舱，EMS每15分钟优化一次充放电计划。",
              table=[["项目", "参数"],
                     ["屋顶光伏", f"{PV_KWP:,} kWp / {ROOFS} 栋建筑"],
                     ["储能系统", f"{STORAGE_KW} kW / {STORAGE_KWH:,} kWh 磷酸铁锂"],
                     ["可用屋顶面积", f"{ROOF_AREA_M2:,} m²"],
                     ["参与家庭", f"{HOUSEHOLDS} 户"]]),
        Slide("运行结果（一年）",
              [f"年发电量 {t['generation_mwh']:,.0f} MWh",
               f"自用率 {t['self_use_ratio_pv_only']}% → {t['self_use_ratio']}%",
               f"晚高峰负荷 -{EVENING_PEAK_CUT}%", f"户均电费 -{BILL_SAVING}%"],
              f"讲解自用率的提升主要来自夏季；冬季光伏出力小，本地基本可以消纳。全年减排约{t['co2_t']:,}吨二氧化碳。"),
        Slide("问题与下一步",
              ["屋顶防水修缮增加约8%成本", "社区内部电量共享缺乏结算规则",
               "探索参与需求响应与虚拟电厂（VPP）"],
              f"静态回收期约{t['payback_years']}年；下一步计划与电网公司协商需求响应试点，并向相邻两个社区复制经验。"),
    ]


# --------------------------------------------------------------------------------------------------------
# Poster and video
# --------------------------------------------------------------------------------------------------------

def poster_lines() -> tuple[str, list[str]]:
    """Title and key-figure lines of the poster image."""
    t = totals()
    return ("梧桐社区 屋顶光伏＋社区储能", [
        f"装机 {PV_KWP:,} kWp ｜ 储能 {STORAGE_KWH:,} kWh",
        f"年发电 {t['generation_mwh']:,.0f} MWh",
        f"自用率 {t['self_use_ratio_pv_only']}% → {t['self_use_ratio']}%",
        f"晚高峰负荷下降 {EVENING_PEAK_CUT}%",
    ])


POSTER_LINES_EN = ("Wutong Rooftop PV + Community Storage", [
    f"PV {PV_KWP:,} kWp | Storage {STORAGE_KWH:,} kWh",
    "Generation 1,386 MWh per year",
    "Self-use 58% -> 81%",
    f"Evening peak -{EVENING_PEAK_CUT}%",
])


def video_slides() -> list[tuple[str, str, str]]:
    """(on-screen title, on-screen line, narration) for the three 5-second video slides. The narration is
    English: the Mandarin voice of espeak-ng reads tone numbers instead of speaking the words."""
    t = totals()
    return [
        ("社区储能如何工作", "白天充电  傍晚放电", "Storage keeps surplus solar power by day and releases it at the evening peak."),
        ("储能系统配置", f"{STORAGE_KW} kW / {STORAGE_KWH:,} kWh 磷酸铁锂",
         "The storage system has five hundred kilowatts and one thousand kilowatt hours."),
        ("一年运行效果", f"自用率提高到 {t['self_use_ratio']}%", "Solar self use rose to eighty one percent."),
    ]


# --------------------------------------------------------------------------------------------------------
# Request
# --------------------------------------------------------------------------------------------------------

REQUEST = (
    "请基于本文件夹中的全部资料（论文、演示文稿、数据表、海报图片、视频和文章库），撰写一篇1500–2000字的研究简报，"
    "题为《城市屋顶光伏与社区储能：梧桐社区试点的经验与启示》。简报须包含以下部分：（1）引言；（2）项目概况与"
    "技术方案；（3）运行数据与效益分析；（4）问题与政策建议；（5）参考资料。正文中的事实和数据须标注出处，"
    "数据以试点一年的实测结果为准。"
)
