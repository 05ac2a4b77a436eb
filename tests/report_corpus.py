"""Small task folders written by the report tests: Markdown/text sources in Chinese or English."""

from __future__ import annotations

from pathlib import Path

ZH_FILES = {
    "城市交通.md": """# 城市交通与新能源汽车

2023年，某市新能源汽车销量达到12.4万辆，同比增长38%，占全市新车销量的比重首次超过三成。市政府同期新建公共充电桩4200个，覆盖所有行政区。

充电设施的布局仍不均衡，中心城区的车桩比约为三比一，而远郊区县超过八比一。部分老旧小区因电力容量不足，难以安装私人充电桩。

交通管理部门在主干道推行公交专用道和信号优先，早高峰公交平均车速提高了约一成。地铁新线开通后，沿线站点周边的共享单车使用量明显上升。
""",
    "能源转型.md": """# 能源结构的变化

该省非化石能源消费占比由2018年的15%提高到2023年的21%，风电和光伏装机容量合计突破五千万千瓦。

电网企业加快建设特高压输电通道，把西部的清洁电力送往东部负荷中心。储能电站的建设成本在五年内下降了近一半，使峰谷调节更加灵活。

专家指出，煤电仍在保障电力安全方面发挥兜底作用，完全退出需要更长的过渡期。分布式光伏在工业园区屋顶推广较快，企业自发自用的比例逐年提高。
""",
    "居民调查.txt": """本次调查共回收有效问卷1268份，受访者覆盖全市十二个区。

约六成受访者表示愿意在下一次购车时选择新能源汽车，主要原因是使用成本较低和牌照政策优惠。担心续航里程和充电排队的受访者约占四成。

在公共交通方面，受访者最关注准点率和换乘便利度，其次是车厢拥挤程度。年轻受访者更常使用网约车和共享单车完成最后一公里出行。

多数受访者支持在老旧小区改造中同步建设充电设施，但也有人担心停车位被占用引发邻里矛盾。
""",
    "政策文件.md": """# 绿色出行行动方案摘要

方案提出，到2025年中心城区绿色出行比例达到七成以上，公共交通机动化出行分担率不低于五成。

方案要求新增和更新的公交车全部使用新能源车型，出租车和网约车新能源比例逐年提高。各区需要编制充电基础设施专项规划，并在新建住宅中预留充电条件。

方案还鼓励企业实行错峰上下班，推广远程办公，以减轻高峰时段的道路压力。对违规占用充电车位的行为，将依法予以处罚。
""",
    "专家访谈.md": """# 专家访谈记录

交通规划专家认为，城市交通减排的关键在于减少不必要的机动化出行，而不只是更换车辆的动力类型。

能源经济学者提醒，电动汽车的减排效果取决于电力来源的清洁程度，如果电网仍以煤电为主，全生命周期的排放优势会被削弱。

城市管理者表示，充电桩建设需要电力、住建和街道等多个部门协同，审批流程过长是当前的主要障碍之一。

受访专家普遍认为，数据共享平台能够帮助政府更精准地布局充电设施和调整公交线路。
""",
}

ZH_REQUEST = (
    "假设你是一名城市规划研究人员，请根据提供的资料和视频 video.mp4，撰写一篇《城市绿色交通发展报告》。"
    "报告需使用正式书面语，包含以下部分：（1）引言；（2）现状与数据；（3）问题与挑战；（4）政策建议；（5）参考资料。"
    "全文字数在600至800字之间，不要分点回答。"
)

EN_FILES = {
    "solar.md": """# Solar power adoption

Rooftop solar capacity in the region grew from 1.2 gigawatts in 2019 to 3.5 gigawatts in 2023. Most new systems were installed on commercial buildings and factory roofs.

Falling panel prices reduced the payback period for small businesses to about six years. Several utilities now offer net metering, which credits owners for surplus power sent to the grid.
""",
    "storage.md": """# Battery storage

Grid operators added large battery systems to smooth the evening demand peak when solar output falls. Lithium iron phosphate cells dominate new projects because they are cheaper and safer than earlier chemistries.

Storage costs per kilowatt hour fell by nearly half over five years. Engineers warn that long duration storage is still missing for multi day periods of low wind and sun.
""",
    "policy.txt": """The regional plan targets forty percent renewable electricity by 2030 and requires new public buildings to install solar panels.

Permitting delays remain the most common complaint from installers, who report waiting several months for grid connection approval. The plan promises a single online portal to shorten these approvals.

Critics argue that subsidies mostly benefit wealthier homeowners, and they call for community solar programs that renters can join.
""",
}

EN_REQUEST = (
    "You are an energy analyst. Write a report titled \"Renewable Energy Outlook\" based on the provided files. "
    "Sections: Introduction; Current situation; Challenges; Recommendations; References. "
    "Length: 150-250 words. No bullet points."
)


def make_folder(root: Path, files: dict[str, str], broken_video: bool = False) -> Path:
    """Write ``files`` (and optionally an unreadable ``video.mp4``) into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    if broken_video:
        (root / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"this is not a real video stream" * 40)
    return root


# off-topic articles for a report on city EV charging: a drinks survey, thesis format rules, an unrelated
# provincial project, sport news and download-page furniture
OFF_TOPIC = [
    {"title": "奶茶饮品营销调查", "page_body": "本次奶茶饮品营销调查共访问了八百名消费者。多数消费者更看重口味和价格，"
     "芝士奶盖和水果茶最受年轻人欢迎。门店通过会员积分和节日促销提高复购率。外卖订单占到饮品销售额的四成。"},
    {"title": "毕业论文格式规范", "page_body": "毕业论文正文一律使用宋体小四号字，行距为一点五倍。摘要不超过三百字，关键词"
     "三到五个。参考文献按照著录规则排列，图表须有编号和标题。页码从正文第一页开始连续编排。"},
    {"title": "省级机器翻译项目简介", "page_body": "该省级机器翻译项目面向少数民族语言与汉语互译，建设了平行语料库。"
     "项目组开发了术语管理工具，并在政务服务窗口试点部署。翻译结果由人工校对后发布。"},
    {"title": "足球俱乐部转会新闻", "page_body": "这家足球俱乐部在夏季转会窗口签下了一名新前锋，转会费创下俱乐部纪录。"
     "主教练表示新援将帮助球队提升进攻效率。球迷对新赛季的表现充满期待。"},
    {"title": "文库文档信息", "page_body": "内容提供方：城市资料分享 大小：53 KB 页数：12 下载券：2。"
     "本文档由用户上传，下载文档后可查看全部内容。版权所有，侵权必究，如有问题请联系客服。"},
]

EV_REQUEST = ("请根据提供的资料撰写一篇《城市新能源汽车与充电设施发展报告》，包含以下部分：（1）引言；（2）发展现状"
           "（说明新能源汽车销量和充电桩建设情况）；（3）主要问题；（4）参考资料。全文字数在400至600字之间。")


def build_ev_report(tmp_path):
    """A no-LLM report for ``EV_REQUEST`` on a folder of one on-topic note plus the ``OFF_TOPIC`` corpus:
    (folder, store, settings, pipeline result)."""
    from sourcebook.config import get_settings
    from sourcebook.ingest.folder import ingest_folder
    from sourcebook.report.pipeline import build_report
    from tests.docgen import make_corpus

    settings = get_settings(cache_dir=tmp_path / "cache")
    folder = make_folder(tmp_path / "folder", {"城市交通.md": ZH_FILES["城市交通.md"]})
    make_corpus(folder / "long_context.json", OFF_TOPIC)
    store = ingest_folder(folder, settings).store
    return folder, store, settings, build_report(store, EV_REQUEST, settings, tmp_path / "run")
