"""Absolute relevance of a sentence to a section's intent, and headings without bracketed instructions."""

from __future__ import annotations

from sourcebook.report.relevance import (
    background_on_topic,
    is_generic,
    on_topic,
    relevance,
    section_intent,
    split_heading,
)


def test_heading_and_instruction_are_split():
    assert split_heading("核心数据摘要（需要在一页内概括关键指标和不同时间段的数据波动情况）") == (
        "核心数据摘要", "需要在一页内概括关键指标和不同时间段的数据波动情况")
    assert split_heading("Introduction") == ("Introduction", "")


def test_task_words_are_not_topic_words():
    assert is_generic("论文") and is_generic("内容摘要") and is_generic("report")
    assert not is_generic("transformer") and not is_generic("新能源汽车")


def test_relevance_is_absolute_and_needs_a_topic_word():
    intent = section_intent("关键技术解析（如Transformer等）", ["大模型", "Transformer", "论文", "视频"])
    on = "Transformer模型完全基于注意力机制，摒弃了循环和卷积结构。"
    off = ["本次奶茶饮品营销调查共访问了八百名消费者。", "毕业论文正文一律使用宋体小四号字，行距为一点五倍。",
           "该省级机器翻译项目面向少数民族语言与汉语互译。"]
    assert on_topic(on, intent) and relevance(on, intent) >= 0.5
    for s in off:
        assert relevance(s, intent) == 0.0 and not on_topic(s, intent), s
    # a section name alone says nothing about the subject
    intro = section_intent("引言", ["新能源汽车", "充电桩"])
    assert not on_topic("本文的引言部分介绍研究背景与方法。", intro)
    assert on_topic("该市新能源汽车销量达到12.4万辆。", intro)


def test_background_sentences_need_a_subject_word_of_the_request():
    outlook = section_intent("全球价值与发展展望", ["十五五", "规划", "现代化"])
    # shares only the section's name with the section: about something else
    assert not background_on_topic("2023年11月，首届全球人工智能安全峰会在英国布莱切利召开。", outlook)
    assert background_on_topic("“十五五”规划为全球经济发展注入新的确定性，展望二〇三五年基本实现现代化。", outlook)
    stress = section_intent("学生压力现状分析", ["压力", "干预", "数据挖掘"])
    # the section's own subject word is enough for a background sentence that states a fact about it
    assert background_on_topic("据统计，有超过40%的高中生因学业压力出现过失眠、头痛等生理症状。", stress)
    assert not background_on_topic("这些负面情绪可能会影响学生的学习效率和人际交往。", stress)
    assert not background_on_topic("本次奶茶饮品营销调查共访问了八百名消费者。", stress)
