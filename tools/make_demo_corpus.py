#!/usr/bin/env python3
"""Generate the small synthetic demo corpus shipped with textrnn.

Writes data/demo/{train,val,test}.txt, one document per line as
``label<TAB>text`` (UTF-8, LF line endings).  The ten labels are the cnews
classes.  Every document is composed here from hand-written phrase lists and
sentence templates; none of it is real news and none of it is taken from any
existing corpus.  The output is fully deterministic (``random.Random(2026)``).

Usage:  python tools/make_demo_corpus.py [--out DIR]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

SEED = 2026
LABELS = ["体育", "财经", "房产", "家居", "教育", "科技", "时尚", "时政", "游戏", "娱乐"]
SPLITS = [("train", 150), ("val", 25), ("test", 25)]  # documents per class
MIN_CHARS, MAX_CHARS = 40, 200

# Probabilities controlling how much classes blur into each other.
P_OWN_WORD = 0.70        # a {w} slot takes a word of the document's own class
P_NEIGHBOR_WORD = 0.20   # ... or of a related class (otherwise: any class)
P_NEIGHBOR_SENTENCE = 0.18  # a whole sentence borrowed from a related class
P_CLASS_TEMPLATE = 0.50  # per sentence: class-specific template
P_FRAME = 0.25           # per sentence: shared frame filled with class words
                         # (otherwise: purely generic sentence)

# --------------------------------------------------------------------------
# Class vocabularies.  Some words deliberately appear in two classes.
# --------------------------------------------------------------------------
WORDS = {
    "体育": "球队 比赛 进球 冠军 主教练 联赛 球员 半场 主场 客场 射门 点球 防守 反击 积分榜 "
            "季后赛 决赛 世界杯 奥运会 田径 游泳 篮板 三分球 助攻 门将 前锋 后卫 中场 转会 "
            "裁判 红牌 加时赛 首发 替补 卫冕 金牌 纪录 比分 体能 赛季 球迷",
    "财经": "股市 基金 央行 利率 上证指数 成交额 涨幅 跌幅 券商 债券 投资者 汇率 人民币 通胀 "
            "货币政策 降准 流动性 营收 净利润 财报 市值 板块 融资 上市公司 分红 机构 估值 "
            "银行 保险 理财产品 期货 外资 资本市场 收益率 贷款 价格 经济增长 消费 出口 监管",
    "房产": "楼盘 开发商 房价 成交量 二手房 新房 商品房 均价 首付 按揭 贷款 价格 限购 "
            "土地出让 地块 容积率 户型 住宅 楼市 库存 去化周期 租金 购房者 中介 公积金 交房 "
            "物业 精装修 学区房 开盘 预售证 认购 置业 保障房 城市更新 建筑面积 样板间 利率",
    "家居": "家具 沙发 衣柜 橱柜 地板 瓷砖 墙面 软装 硬装 装修 客厅 卧室 厨房 卫浴 收纳 "
            "照明 灯具 窗帘 床垫 实木 板材 环保材料 甲醛 智能家居 设计师 风格 北欧风 新中式 "
            "色调 空间 餐桌 书房 阳台 涂料 户型 样板间 家电 布艺 整体定制 精装修",
    "教育": "学生 教师 学校 高考 考生 招生 录取 分数线 课程 课堂 教材 校园 家长 作业 中考 "
            "义务教育 大学 研究生 考研 留学 学位 专业 志愿填报 培训机构 教研 减负 毕业生 "
            "就业 实习 奖学金 教育部 校长 班主任 高校 在线课程 学科 素质教育 幼儿园 复习 考试",
    "科技": "芯片 人工智能 手机 处理器 操作系统 算法 数据中心 云计算 互联网 用户 软件 应用 "
            "传感器 屏幕 电池 续航 发布会 新品 摄像头 半导体 研发 专利 网络 服务器 自动驾驶 "
            "机器人 大模型 平板电脑 笔记本电脑 系统更新 玩家 量子计算 卫星 无人机 开源 "
            "数据安全 运营商 带宽 智能家居",
    "时尚": "时装周 秀场 设计师 品牌 新系列 单品 搭配 造型 妆容 口红 香水 面料 剪裁 款式 "
            "潮流 配饰 手袋 高跟鞋 连衣裙 外套 街拍 模特 杂志 封面 色彩 复古 极简 腕表 珠宝 "
            "护肤 面霜 明星 红毯 联名 限量款 春夏 秋冬 衣橱 美妆 风格",
    "时政": "政府 会议 部署 政策 改革 发展 代表 委员 国务院 外交部 发言人 会谈 合作 领导 "
            "文件 法规 治理 基层 民生 乡村振兴 调研 人大 政协 建议 提案 公共服务 双边关系 "
            "访问 签署 协议 条例 督查 整改 依法行政 生态环境 安全生产 干部 经济社会 监管",
    "游戏": "游戏 玩家 手游 网游 主机 版本 更新 副本 角色 装备 关卡 剧情 开发商 公测 内测 "
            "电竞 战队 赛季 排位 皮肤 服务器 充值 道具 攻略 开放世界 多人在线 画面 引擎 "
            "掌机 下载量 评测 独立游戏 续作 资料片 补丁 手机 职业选手 地图 任务 好评率 冠军",
    "娱乐": "明星 电影 导演 演员 票房 首映 剧组 电视剧 综艺 歌手 专辑 演唱会 粉丝 主演 杀青 "
            "定档 预告片 角色 片方 影帝 影后 颁奖典礼 红毯 热播 收视率 经纪公司 绯闻 恋情 "
            "新歌 音乐 舞台 拍摄 档期 口碑 影评 网剧 剧情 戏份 出道 偶像 造型",
}
WORDS = {k: v.split() for k, v in WORDS.items()}

# Related classes: words and sentences leak between these.
NEIGHBORS = {
    "体育": ["游戏", "娱乐"],
    "财经": ["房产", "时政", "科技"],
    "房产": ["家居", "财经"],
    "家居": ["房产", "时尚"],
    "教育": ["科技", "时政"],
    "科技": ["游戏", "财经", "教育"],
    "时尚": ["娱乐", "家居"],
    "时政": ["财经", "教育"],
    "游戏": ["科技", "体育", "娱乐"],
    "娱乐": ["时尚", "游戏", "体育"],
}

# Made-up organisations, one small list per class.
ORGS = {
    "体育": "江城猎鹰队 北岸雷霆队 海港蓝鲸队 山城飞龙队 云州骑士队 东湖星辰队",
    "财经": "恒川证券 华岳基金 北辰银行 长汀保险 瑞丰资本 明德信托",
    "房产": "锦湖置业 远山地产 澜庭集团 盛和地产 青屿置地 南桥城建",
    "家居": "木语家居 安居空间 暖居工坊 青禾家具 素白设计 拾光软装",
    "教育": "育英中学 明远大学 启航实验学校 北溪师范大学 星河外国语学校 南湖职业学院",
    "科技": "星核科技 云迹智能 极光半导体 数川网络 远芯微电子 灵犀实验室",
    "时尚": "素锦 维拉时装 白鹭工作室 珂兰 玛蒂娜 青山衣社",
    "时政": "省政府 市人民政府 省发展改革委 市生态环境局 县人大常委会 省商务厅",
    "游戏": "幻塔工作室 星火互娱 青鸟游戏 云梦网络 赤焰战队 北斗电竞俱乐部",
    "娱乐": "光影传媒 星梦影业 天幕文化 青橙音乐 北极光影视 银河经纪",
}
ORGS = {k: v.split() for k, v in ORGS.items()}

# Made-up titles (films, series, games, albums); shared by several classes.
TITLES = ("长夜将尽 山海旧梦 风起南城 星落之时 逆光而行 归途 雾中灯塔 第七个夏天 "
          "远方来信 白昼之城 无声回响 潮汐").split()

SURNAMES = list("王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余杜叶程魏苏吕丁沈任姚卢")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国宁欣然浩宇晨阳子涵思远嘉怡晓雨文博")
PLACES = ("北京 上海 广州 深圳 杭州 成都 武汉 南京 西安 重庆 天津 苏州 长沙 郑州 青岛 "
          "厦门 昆明 合肥 济南 福州 沈阳 大连 宁波 南昌 贵阳 兰州 海口 太原").split()
SOURCES = ("据报道 据了解 记者获悉 据悉 有消息称 据相关负责人介绍 据统计 据媒体报道").split()
TIMES = ("近日 日前 昨天 今天上午 本周 上周末 今年以来 近期 当天下午 本月初").split()


# --------------------------------------------------------------------------
# Sentence templates.  Slots: {w} class word (drawn independently each time),
# {org} organisation, {name} person, {place} city, {date}, {time}, {source},
# {n} integer, {k} small integer, {pct} percentage, {spct} small percentage,
# {title} title, {score} match score.
# --------------------------------------------------------------------------
CLASS_TEMPLATES = {
    "体育": [
        "{org}在{date}进行的{w}中以{score}击败{org}，{name}贡献了关键{w}。",
        "主教练{name}表示，球队将继续加强{w}，争取在{w}中取得更好成绩。",
        "本赛季{org}已经取得{k}场胜利，目前在{w}上排名第{k}。",
        "{place}站的{w}吸引了{n}名观众到场，{w}成为全场焦点。",
        "{name}在第{k}分钟完成{w}，帮助{org}锁定胜局。",
        "赛后{name}谈到{w}和{w}时显得十分满意。",
        "{org}与{org}的{w}将于{date}在{place}打响。",
    ],
    "财经": [
        "{date}，上证指数收涨{spct}，{w}成交额约{n}亿元。",
        "{org}发布财报称，上半年{w}同比增长{pct}，{w}表现稳健。",
        "分析师{name}认为，{w}和{w}仍是影响市场的主要因素。",
        "央行{time}开展公开市场操作，{w}保持合理充裕。",
        "{w}板块午后走强，多只个股涨幅超过{spct}。",
        "{org}表示，将适度增加对{w}的配置，控制{w}风险。",
        "受{w}影响，{place}地区{w}规模达到{n}亿元。",
    ],
    "房产": [
        "{place}{org}旗下楼盘{date}开盘，均价约每平方米{n}元。",
        "数据显示，{place}上月新房{w}环比上涨{spct}，{w}有所回暖。",
        "{org}以{n}万元竞得{place}一宗{w}，将用于建设{w}。",
        "多位购房者表示，{w}和{w}是选房时最关心的问题。",
        "{place}调整{w}政策，首套房{w}比例降至{pct}。",
        "中介人员{name}说，近期二手房{w}明显增加，{w}趋于稳定。",
        "该项目建筑面积约{n}平方米，主力户型为{k}室两厅。",
    ],
    "家居": [
        "设计师{name}建议，小户型{w}可以选择浅色{w}来放大空间感。",
        "{org}{date}推出新款{w}，主打{w}和环保理念。",
        "不少家庭在{w}时更看重{w}，而不是一味追求价格。",
        "这套{n}平方米的住宅以{w}为主，{w}与{w}搭配得恰到好处。",
        "业内人士提醒，新装修的房子要注意{w}，入住前最好通风{k}个月。",
        "客厅的{w}换成了{w}，整个空间显得更加温馨。",
        "{org}门店负责人{name}介绍，{w}类产品销量增长了{pct}。",
    ],
    "教育": [
        "{place}今年共有{n}名考生参加{w}，比去年增加{pct}。",
        "{org}{date}公布{w}，多个专业的{w}有所提高。",
        "校长{name}表示，学校将进一步减轻学生{w}负担，丰富{w}。",
        "{w}期间，家长要帮助孩子合理安排{w}和休息时间。",
        "教育部门发布通知，要求各地规范{w}，落实{w}。",
        "{org}的{w}今年新增{k}个方向，计划招收{n}人。",
        "班主任{name}说，{w}之后同学们的{w}明显进步。",
    ],
    "科技": [
        "{org}{date}召开发布会，推出搭载新一代{w}的{w}。",
        "{org}研发团队在{w}领域取得突破，相关{w}已申请{k}项专利。",
        "工程师{name}介绍，新版{w}在{w}方面提升了{pct}。",
        "据测算，{place}数据中心的{w}能力将达到每秒{n}万亿次。",
        "{w}和{w}正在改变人们的生活方式，{w}用户已超过{n}万。",
        "{org}宣布开放{w}平台，开发者可免费调用{w}接口。",
        "这款{w}配备{k}颗摄像头，{w}续航可达{k}天。",
    ],
    "时尚": [
        "{org}在{place}时装周发布{w}，以{w}和{w}为主题。",
        "造型师{name}建议，今年秋冬可以用{w}搭配{w}，简单又时髦。",
        "本季{w}的关键词是{w}，{w}色调依旧流行。",
        "{org}与设计师{name}推出联名{w}，首发当天即告售罄。",
        "红毯上，她身穿一袭{w}，搭配精致{w}，吸引了众多目光。",
        "杂志{date}刊封面以{w}为主题，展现了{w}的魅力。",
        "这款{w}售价{n}元，主打{w}路线。",
    ],
    "时政": [
        "{org}{date}召开常务会议，研究部署{w}和{w}工作。",
        "外交部发言人{name}在例行记者会上就{w}问题回答了提问。",
        "会议强调，要坚持以人民为中心，推进{w}，加强{w}。",
        "{place}出台{k}条措施，进一步优化{w}，提升{w}水平。",
        "代表{name}在审议时建议，加快完善{w}，保障{w}。",
        "双方就{w}和{w}等议题深入交换意见，并签署了{k}项合作文件。",
        "督查组在{place}发现{k}个问题，要求限期{w}。",
    ],
    "游戏": [
        "{org}开发的新作《{title}》{date}开启{w}，首日{w}突破{n}万。",
        "玩家{name}表示，新版本的{w}和{w}都比之前有明显改进。",
        "《{title}》将在下个{w}加入{k}个新{w}，并调整部分{w}。",
        "{org}战队在{w}总决赛中以{score}夺冠，选手{name}获评最有价值选手。",
        "本次{w}修复了{k}处问题，同时优化了{w}加载速度。",
        "这款{w}凭借出色的{w}获得{pct}的好评率。",
        "官方提醒玩家理性{w}，未成年人每周游戏时间受到限制。",
    ],
    "娱乐": [
        "电影《{title}》{date}定档，由{name}执导，{name}领衔主演。",
        "{name}新专辑发布当天，{w}销量突破{n}张。",
        "《{title}》{date}举行首映礼，{w}和{w}悉数到场。",
        "据片方透露，该片上映{k}天{w}已突破{n}万元。",
        "综艺节目播出后，{name}凭借{w}收获大批{w}。",
        "{org}发表声明，否认旗下艺人{name}的{w}传闻。",
        "电视剧《{title}》在{place}杀青，{w}透露{w}部分将延续原著风格。",
    ],
}

# Shared frames: same wording for every class, only the {w} words differ.
FRAMES = [
    "{time}，{w}和{w}成为{place}市民热议的话题。",
    "{source}，{place}有关{w}的讨论持续升温。",
    "{name}表示，{w}的变化值得关注，{w}方面也有新进展。",
    "从{date}开始，围绕{w}的一系列活动将陆续展开。",
    "业内普遍认为，{w}仍有较大提升空间。",
    "不少受访者提到了{w}，认为这是今年的一大亮点。",
    "{source}，{w}相关话题在网络上的阅读量超过{n}万次。",
]

# Purely generic sentences, no class information at all.
GENERIC = [
    "{source}，相关情况引起了广泛关注。",
    "记者{name}{date}从有关方面了解到这一消息。",
    "{source}，此次活动于{date}在{place}举行。",
    "业内人士表示，未来一段时间仍需持续观察。",
    "{name}在接受记者采访时表示，目前各项工作进展顺利。",
    "{time}，{place}多家单位召开座谈会，交流了最新情况。",
    "有分析认为，这一变化将在今后{k}年内逐步显现。",
    "更多详情将在后续公布。",
    "消息发布后，网友纷纷留言讨论。",
    "对此，{name}认为还需要更多时间来检验效果。",
    "本报记者{name}报道。",
    "{time}，{place}天气晴好，现场秩序井然。",
    "截至{date}，已有{n}人次参与其中。",
    "相关负责人{name}透露，下一步还将推出更多举措。",
]

SLOT_RE = re.compile(r"\{(\w+)\}")


class Composer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def name(self) -> str:
        r = self.rng
        given = r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.6 else "")
        return r.choice(SURNAMES) + given

    def date(self) -> str:
        r = self.rng
        if r.random() < 0.5:
            return f"{r.randint(1, 12)}月{r.randint(1, 28)}日"
        return f"{r.randint(2019, 2025)}年{r.randint(1, 12)}月{r.randint(1, 28)}日"

    def word(self, label: str) -> str:
        r = self.rng
        x = r.random()
        if x < P_OWN_WORD:
            src = label
        elif x < P_OWN_WORD + P_NEIGHBOR_WORD:
            src = r.choice(NEIGHBORS[label])
        else:
            src = r.choice(LABELS)
        return r.choice(WORDS[src])

    def fill(self, template: str, label: str) -> str:
        r = self.rng

        def slot(m: re.Match[str]) -> str:
            key = m.group(1)
            if key == "w":
                return self.word(label)
            if key == "org":
                return r.choice(ORGS[label])
            if key == "name":
                return self.name()
            if key == "place":
                return r.choice(PLACES)
            if key == "date":
                return self.date()
            if key == "time":
                return r.choice(TIMES)
            if key == "source":
                return r.choice(SOURCES)
            if key == "n":
                return str(r.choice([r.randint(12, 99), r.randint(100, 999), r.randint(1000, 99999)]))
            if key == "k":
                return str(r.randint(2, 9))
            if key == "pct":
                return f"{r.randint(1, 60)}.{r.randint(0, 9)}%"
            if key == "spct":
                return f"{r.randint(0, 4)}.{r.randint(1, 99):02d}%"
            if key == "title":
                return r.choice(TITLES)
            if key == "score":
                won = r.randint(1, 5)  # winner's score first
                return f"{won}比{r.randint(0, won - 1)}"
            raise KeyError(key)

        return SLOT_RE.sub(slot, template)

    def pick(self, templates: list[str], used: set[str]) -> str:
        """Choose a template not yet used in the current document."""
        t = self.rng.choice([t for t in templates if t not in used])
        used.add(t)
        return t

    def sentence(self, label: str, used: set[str]) -> str:
        r = self.rng
        if r.random() < P_NEIGHBOR_SENTENCE:
            other = r.choice(NEIGHBORS[label])
            return self.fill(self.pick(CLASS_TEMPLATES[other], used), other)
        x = r.random()
        if x < P_CLASS_TEMPLATE:
            return self.fill(self.pick(CLASS_TEMPLATES[label], used), label)
        if x < P_CLASS_TEMPLATE + P_FRAME:
            return self.fill(self.pick(FRAMES, used), label)
        return self.fill(self.pick(GENERIC, used), label)

    def document(self, label: str) -> str:
        r = self.rng
        while True:
            n = r.randint(2, 5)
            # The lead sentence always comes from the class's own templates.
            used: set[str] = set()
            sents = [self.fill(self.pick(CLASS_TEMPLATES[label], used), label)]
            sents += [self.sentence(label, used) for _ in range(n - 1)]
            if n >= 3 and r.random() < 0.5:
                r.shuffle(sents)
            text = "".join(sents)
            if MIN_CHARS <= len(text) <= MAX_CHARS:
                return text


def build(rng: random.Random) -> dict[str, list[str]]:
    composer = Composer(rng)
    seen: set[str] = set()
    out: dict[str, list[str]] = {}
    for split, per_class in SPLITS:
        lines = []
        for label in LABELS:
            count = 0
            while count < per_class:
                text = composer.document(label)
                if text in seen:  # no duplicates within or across splits
                    continue
                seen.add(text)
                assert "\t" not in text and "\n" not in text
                lines.append(f"{label}\t{text}")
                count += 1
        rng.shuffle(lines)
        out[split] = lines
    return out


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=root / "data" / "demo")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for split, lines in build(random.Random(SEED)).items():
        path = args.out / f"{split}.txt"
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print(f"wrote {path} ({len(lines)} lines)")


if __name__ == "__main__":
    main()
