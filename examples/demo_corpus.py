"""Original article corpus of the example folder: ~30 short web-style articles ``[{title, page_body}]`` around
urban rooftop solar and community storage, assembled deterministically from topic paragraphs written for
this project. All places, organisations and figures are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from demo_content import CITY, COMMUNITY, DISCLAIMER, SEED


@dataclass(frozen=True)
class Topic:
    """A theme: its short name, three article titles (news, explainer, commentary) and its paragraphs."""

    name: str
    titles: tuple[str, str, str]
    paragraphs: tuple[str, ...]


TOPICS: list[Topic] = [
    Topic("屋顶结构安全", (
        "{city}开展既有建筑屋顶光伏安全排查",
        "装光伏之前，屋顶要先过哪几关？",
        "别让屋顶光伏成为“压垮”老楼的最后一根稻草",
    ), (
        "屋顶能否安装光伏，首先取决于结构荷载。常见的混凝土平屋面可以承受组件与支架带来的每平方米15至25千克附加荷载，"
        "但部分上世纪建成的砖混楼房设计余量较小，需要由有资质的单位出具结构复核意见。",
        "防水是另一道关口。支架基础如果直接打孔固定，很容易破坏原有防水层；更稳妥的做法是采用配重式基础，"
        "或者在安装前统一翻修防水，并把后续漏水的维修责任写进协议。",
        "风荷载常被忽视。高层建筑屋顶风速大，组件需要按当地50年一遇基本风压校核，边角区域还要加密固定点。"
        "有工程人员提醒，台风季前的例行巡检不可省略。",
        "消防通道与检修通道也要预留。规范要求屋面组件之间保留足够的疏散与灭火空间，"
        "直流侧应配置快速关断装置，方便消防人员在紧急情况下切断电源。",
    )),
    Topic("储能安全", (
        "{city}首批社区储能舱通过消防验收",
        "磷酸铁锂电池为什么更适合放在小区里？",
        "社区储能的安全账，要算在前面",
    ), (
        "与三元锂电池相比，磷酸铁锂（LFP）电芯的热失控起始温度更高、释放的能量更少，循环寿命通常可达6000次以上，"
        "因此成为社区和工商业储能的主流选择。",
        "预制舱式储能把电池簇、电池管理系统（BMS）、温控和消防集成在一个箱体内。舱内一般配置可燃气体探测、"
        "烟感温感和全氟己酮等灭火介质，一旦某个电池模组温度异常，系统会先告警再分级处置。",
        "选址同样关键。储能舱应与住宅保持规定的防火间距，远离人员密集出入口，并设置围栏和警示标识。"
        "一些社区把储能舱布置在配电室旁边，既缩短了电缆，也方便运维人员集中巡检。",
        "安全管理不能只靠设备。运营方需要建立24小时远程监控、定期开展应急演练，并把储能舱纳入社区消防网格，"
        "让物业、消防站和运维单位都清楚各自的职责。",
    )),
    Topic("峰谷电价", (
        "{city}调整居民分时电价，峰谷价差扩大",
        "一度电在不同时段为什么价格不同？",
        "峰谷价差是社区储能的“生命线”",
    ), (
        "分时电价把一天分为高峰、平段和低谷等时段，用价格信号引导用户错峰用电。峰谷价差越大，储能“低充高放”的"
        "收益空间就越大。",
        "以高峰电价每千瓦时0.98元、低谷电价0.32元计算，一千千瓦时的储能每天完成一次完整充放电，在扣除约7%的"
        "往返损耗后，单日价差收益可达数百元。",
        "对于配有光伏的社区，储能的充电来源不仅是低谷电网电，还包括中午多余的光伏电。后者的边际成本几乎为零，"
        "因此光伏与储能搭配时的经济性往往好于单独建设储能。",
        "不过电价政策存在调整的可能。业内人士建议，项目测算应做敏感性分析，比较价差缩小20%或扩大20%时的回收期，"
        "避免把全部收益押在单一的价格假设上。",
    )),
    Topic("能源合作社", (
        "{community}居民入股成立能源合作社",
        "什么是社区能源合作社？",
        "让居民成为“股东”，屋顶光伏才能走得远",
    ), (
        "能源合作社由社区居民自愿出资组成，共同持有光伏和储能设施，按章程分配收益。它的好处是把分散的屋顶"
        "使用权和居民意愿集中起来，降低了与每户单独谈判的成本。",
        "在梧桐社区，参与家庭通过业主大会表决授权合作社使用屋顶，合作社则承诺承担屋面维护，并每年公开财务报告。"
        "入股门槛较低，不入股的家庭同样可以享受公共区域电费下降带来的好处。",
        "合作社也面临能力短板。财务结算、设备运维和与电网公司的沟通都需要专业知识，不少合作社选择委托第三方"
        "运维机构，并邀请居民代表参与监督。",
        "国外的社区能源（community energy）实践表明，透明的收益分配和持续的居民沟通，是合作社长期稳定运行的关键。",
    )),
    Topic("老旧小区改造", (
        "{city}将光伏纳入老旧小区改造菜单",
        "老旧小区改造，为什么要顺便装光伏？",
        "改造一次，管用二十年：光伏应成为老旧小区改造的标配选项",
    ), (
        "老旧小区改造通常包括屋面防水、外墙保温、管网更新等内容。如果在翻修屋面的同时预留光伏支架基础和电缆通道，"
        "后续安装成本可以显著下降。",
        "部分城市已经把屋顶光伏列入改造“菜单”，由居民在改造方案征询阶段自主选择。选择安装的楼栋，"
        "在屋面设计时就按光伏荷载进行加固。",
        "改造过程中的沟通成本不容小觑。高层住户与顶层住户对屋顶使用的态度往往不同，顶层住户担心漏水和噪声，"
        "需要通过补偿或优先分红等方式平衡利益。",
        "从全生命周期看，一次性统筹改造比事后逐栋加装更省钱，也更能保证施工质量和建筑外观的一致性。",
    )),
    Topic("虚拟电厂", (
        "{city}启动虚拟电厂聚合试点，社区储能首次参与需求响应",
        "虚拟电厂（VPP）到底是不是“电厂”？",
        "把千家万户的小电源“拧成一股绳”",
    ), (
        "虚拟电厂（virtual power plant, VPP）并不是一座实体电厂，而是通过软件平台把分散的光伏、储能、"
        "充电桩和可调负荷聚合起来，像一座电厂一样接受电网调度。",
        "在需求响应（demand response）事件中，电网提前发出邀约，聚合商组织社区储能在指定时段放电或减少充电，"
        "按响应电量获得补偿。",
        "社区储能规模虽小，但响应速度快、可控性好，适合参与短时调峰。一次两小时的响应，五百千瓦的储能可以"
        "为配电网削减相当于上百户家庭的晚间负荷。",
        "虚拟电厂的难点在于通信、计量和结算标准尚未统一。聚合商需要与电网公司、设备厂商协调接口，"
        "这也是目前多数项目仍停留在试点阶段的原因。",
    )),
    Topic("组件回收", (
        "{city}建立退役光伏组件回收网点",
        "光伏板用到寿命终点后去哪儿？",
        "今天装上屋顶的光伏板，二十五年后怎么办？",
    ), (
        "光伏组件的设计寿命一般为25至30年。组件中的铝边框、玻璃和铜可以较容易地回收，硅片和银的回收则需要"
        "更复杂的工艺。",
        "目前常见的回收流程包括拆框、分离接线盒、热解或机械破碎去除封装胶膜，再分选玻璃和硅料。"
        "回收企业普遍反映，规模不足是成本偏高的主要原因。",
        "对于社区项目而言，更现实的问题是提前明确责任：组件退役后由谁拆除、运输和处置，费用如何分摊，"
        "都应写进合作社章程或运维合同。",
        "电池的回收同样重要。退役的磷酸铁锂电池可以先进行梯次利用，例如用于低速车或通信基站备电，"
        "容量进一步衰减后再拆解回收。",
    )),
    Topic("配电网承载力", (
        "{city}供电公司发布分布式光伏可开放容量",
        "配电网为什么会“装不下”更多光伏？",
        "光伏上屋顶，电网也要“扩容升级”",
    ), (
        "当一个台区的光伏装机接近配电变压器容量时，中午时段可能出现电压越限和反向重过载，这就是所谓的"
        "承载力（hosting capacity）问题。",
        "供电公司定期发布各区域的分布式光伏可开放容量，超过容量的新项目需要配套储能或等待电网改造。",
        "社区储能在这里扮演了“缓冲器”的角色：中午吸收多余电量，避免倒送过多；傍晚放电，削减变压器峰值。"
        "一些台区因此推迟了原计划的变压器增容。",
        "智能逆变器的无功调节功能也能缓解电压问题。专家建议，新建光伏项目应默认开启电压—无功控制，"
        "并接入台区监测平台。",
    )),
    Topic("能源数据与隐私", (
        "{community}出台能源数据使用规则",
        "智能电表记录了我家的哪些信息？",
        "社区能源数字化，不能以牺牲隐私为代价",
    ), (
        "智能电表和能量管理系统（EMS）以15分钟甚至更细的粒度记录用电数据。通过分析这些曲线，"
        "可以推断一个家庭何时起床、何时外出，因此用电数据属于需要保护的个人信息。",
        "合理的做法是“最少必要”：运营方只收集结算和调度所需的数据，分析前进行匿名化或聚合处理，"
        "并在协议中写明数据的用途、保存期限和删除方式。",
        "居民应当有权查看自己的数据，也有权退出数据分析项目。一些合作社设立了由居民代表参加的数据监督小组，"
        "定期审查数据使用情况。",
        "在研究中使用社区能源数据时，研究人员应签署保密协议，只接触聚合后的统计结果，避免单户数据外泄。",
    )),
    Topic("阳台光伏", (
        "{city}居民阳台光伏备案流程简化",
        "阳台上的小光伏，值得装吗？",
        "阳台光伏与社区光伏：互补而非替代",
    ), (
        "阳台光伏（balcony PV）通常只有几百瓦，通过微型逆变器直接接入户内插座，适合没有屋顶使用权的高层住户。"
        "一套800瓦的系统一年大约可以发电七八百千瓦时。",
        "安装阳台光伏要注意固定牢靠，防止大风时坠落；接入回路应有漏电保护，不能私拉乱接。"
        "部分城市要求居民向供电部门备案。",
        "与社区集中光伏相比，阳台光伏的单位造价更高、发电条件受朝向影响更大，但它让普通住户也能直接参与能源转型。",
        "两种模式可以互补：屋顶由合作社统一开发，阳台由有意愿的家庭自行安装，社区储能则为两者共同提供调节能力。",
    )),
]

LEADS = (
    "据{city}相关部门介绍，{topic}近来受到越来越多的关注。{extra}",
    "“{topic}”是不少居民在咨询屋顶光伏时提出的问题。记者就此走访了{community}等多个社区。{extra}",
    "围绕{topic}，业内已经有不少讨论。本文尝试从社区的角度梳理其中的要点。{extra}",
)
EXTRAS = (
    "截至今年6月，全市已有{n}个社区完成屋顶光伏安装。",
    "今年以来，相关咨询量同比增长约{p}%。",
    "多位受访者表示，最关心的是安全和收益两件事。",
    "{community}的试点经验被多次提及。",
)
CLOSINGS = (
    "总的来看，{topic}并没有标准答案，需要结合社区的实际情况逐步探索。",
    "受访专家认为，只有把技术、经济和居民参与三方面统筹考虑，{topic}才能真正落地。",
    "下一步，有关部门将继续跟踪试点情况，适时总结推广经验。",
    "对居民而言，了解这些基本知识，有助于在业主大会表决时作出理性的选择。",
)

ENGLISH_ARTICLES: list[tuple[str, str]] = [
    ("Community batteries: a short primer",
     "A community battery is a shared energy storage system that serves a neighbourhood rather than a single home. "
     "It charges from surplus rooftop solar at midday and discharges in the evening peak.\n\n"
     "Compared with home batteries, a shared system is cheaper per kilowatt-hour and easier to keep safe, because one "
     "operator monitors it around the clock. In the Wutong pilot, a 500 kW / 1,000 kWh lithium iron phosphate (LFP) "
     "system raised the share of solar used inside the community from 58% to 81%.\n\n"
     "The main open questions are regulatory: how energy shared inside a community is metered and billed, and who is "
     "responsible when the equipment reaches the end of its life."),
    ("Why evening peaks matter for rooftop solar",
     "Solar output peaks around noon, while household demand peaks after sunset. Without storage, much of the midday "
     "energy is exported to the grid at a low price and the evening peak still has to be served from the grid.\n\n"
     "Time-of-use tariffs make this mismatch visible: in the example city, peak electricity costs 0.98 yuan per kWh "
     "and off-peak 0.32 yuan. Shifting solar energy from noon to evening is therefore worth more than the energy "
     "itself.\n\n"
     "Community storage also relieves local transformers. The Wutong pilot reported a 22% reduction of the "
     "18:00-21:00 maximum load, which postponed a planned transformer upgrade."),
]


def articles() -> list[dict[str, str]]:
    """The article corpus as ``[{title, page_body}]`` (deterministic for a given :data:`SEED`)."""
    rng = random.Random(SEED + 1)
    out: list[dict[str, str]] = []
    for topic in TOPICS:
        for form, title in enumerate(topic.titles):
            title = title.format(city=CITY, community=COMMUNITY)
            extra = rng.choice(EXTRAS).format(n=rng.randint(18, 46), p=rng.randint(20, 60), community=COMMUNITY)
            lead = LEADS[form].format(city=CITY, topic=topic.name, community=COMMUNITY, extra=extra)
            body_paras = list(topic.paragraphs)
            rng.shuffle(body_paras)
            k = rng.randint(2, len(body_paras))
            closing = rng.choice(CLOSINGS).format(topic=topic.name)
            paragraphs = [lead, *body_paras[:k], closing]
            out.append({"title": title, "page_body": "\n\n".join(paragraphs)})
    for title, body in ENGLISH_ARTICLES:
        out.append({"title": title, "page_body": body})
    order = list(range(len(out)))
    rng.shuffle(order)
    shuffled = [out[i] for i in order]
    shuffled.append({"title": "关于本文章库", "page_body": DISCLAIMER})
    return shuffled
