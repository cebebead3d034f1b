//! Word lists for the demo subdistrict: place names in the style of Qingpu, common
//! surnames and given-name characters (combined at random, so no real person is meant),
//! organisations and roads. Pure data.

/// Residents' committees (urban track), `(name, short name)`. 章浜 is first: the demo
/// accounts live there; 东方社区 holds the 24-hour self-service point.
pub const COMMUNITIES: [(&str, &str); 24] = [
    ("章浜居民区", "章浜"),
    ("东方社区", "东方"),
    ("青平居民区", "青平"),
    ("城中居民区", "城中"),
    ("湖滨居民区", "湖滨"),
    ("庆华居民区", "庆华"),
    ("民佳居民区", "民佳"),
    ("华浜居民区", "华浜"),
    ("南门居民区", "南门"),
    ("青湖居民区", "青湖"),
    ("新城居民区", "新城"),
    ("青安居民区", "青安"),
    ("淀湖居民区", "淀湖"),
    ("复兴居民区", "复兴"),
    ("珠溪居民区", "珠溪"),
    ("秀泽居民区", "秀泽"),
    ("青松居民区", "青松"),
    ("五厍居民区", "五厍"),
    ("盈港居民区", "盈港"),
    ("公园居民区", "公园"),
    ("万寿居民区", "万寿"),
    ("航运居民区", "航运"),
    ("漕盈居民区", "漕盈"),
    ("佳仕居民区", "佳仕"),
];

/// Villages (rural track), `(name, short name)`. 金米村 is first: its demo accounts.
pub const VILLAGES: [(&str, &str); 9] = [
    ("金米村", "金米"),
    ("太来村", "太来"),
    ("城南村", "城南"),
    ("新阳村", "新阳"),
    ("城北村", "城北"),
    ("西湾村", "西湾"),
    ("东厍村", "东厍"),
    ("南横村", "南横"),
    ("湖光村", "湖光"),
];

/// Roads for street-numbered buildings and addresses.
pub const ROADS: [&str; 24] = [
    "城中东路",
    "公园东路",
    "城中南路",
    "青安路",
    "庆华路",
    "民佳路",
    "华青路",
    "南门路",
    "青湖路",
    "淀山湖大道",
    "外青松公路",
    "盈港东路",
    "青龙路",
    "珠溪路",
    "秀泽路",
    "青松路",
    "五厍浜路",
    "盈浦路",
    "公园路",
    "万寿路",
    "胜利路",
    "漕盈路",
    "浦仓路",
    "环城路",
];

/// Estate name endings.
pub const ESTATE_SUFFIXES: [&str; 8] = [
    "新村", "花苑", "小区", "佳园", "家园", "雅苑", "公寓", "名邸",
];

/// Words for property companies (combined with the estate's short name when needed).
pub const PROPERTY_BRANDS: [&str; 16] = [
    "青浦城投",
    "夏阳",
    "盈浦",
    "汇城",
    "佳园",
    "锦华",
    "恒安",
    "正阳",
    "永业",
    "明华",
    "申青",
    "安居",
    "嘉泰",
    "和兴",
    "瑞源",
    "德惠",
];

/// Developers still holding unsold rooms in some newer estates.
pub const DEVELOPERS: [&str; 3] = [
    "上海青浦新城置业有限公司",
    "上海夏阳房地产开发有限公司",
    "上海淀湖置业有限公司",
];

/// Pairing units (结对共建单位) and the community each pairs with (index in COMMUNITIES).
pub const PAIRING_UNITS: [(&str, usize); 6] = [
    ("夏阳街道社区卫生服务中心", 0),
    ("青浦区市场监督管理局夏阳所", 1),
    ("青浦区城市管理行政执法局夏阳中队", 2),
    ("青浦区供电服务中心", 3),
    ("青浦区图书馆", 4),
    ("青浦区税务局第三税务所", 5),
];

/// The three property-support social organisations from the article.
pub const SOCIAL_ORGS: [&str; 3] = ["美勤社区服务中心", "来仪社区服务社", "中立法律服务中心"];

pub const PARTY_COMMITTEE: &str = "中共上海市青浦区夏阳街道工作委员会";
pub const AUDIT_FIRM: &str = "上海青信会计师事务所有限公司";
pub const LAW_FIRM: &str = "上海淀山湖律师事务所";

/// Common surnames, most frequent first (Shanghai-flavoured order).
pub const SURNAMES: [&str; 80] = [
    "张", "王", "李", "陈", "沈", "徐", "朱", "陆", "顾", "刘", "周", "吴", "杨", "黄", "钱", "孙",
    "胡", "金", "蔡", "姚", "赵", "许", "倪", "马", "盛", "郁", "曹", "戴", "潘", "林", "何", "高",
    "郭", "宋", "唐", "汪", "范", "邱", "俞", "严", "程", "叶", "丁", "袁", "谢", "韩", "冯", "邹",
    "卢", "彭", "蒋", "方", "魏", "夏", "傅", "龚", "田", "董", "梁", "郑", "罗", "秦", "吕", "江",
    "施", "费", "汤", "孔", "毛", "邵", "薛", "万", "任", "尹", "殷", "杜", "贾", "石", "姜", "卫",
];

/// Given-name characters for people born before 1985.
pub const OLDER_MALE: [&str; 36] = [
    "建", "国", "伟", "明", "华", "军", "强", "志", "勇", "平", "德", "林", "海", "荣", "金", "福",
    "根", "宝", "兴", "忠", "文", "斌", "峰", "杰", "东", "春", "永", "庆", "卫", "新", "民", "刚",
    "良", "元", "生", "龙",
];
pub const OLDER_FEMALE: [&str; 36] = [
    "秀", "英", "芳", "丽", "红", "梅", "娟", "玲", "华", "兰", "凤", "珍", "敏", "静", "燕", "霞",
    "萍", "琴", "雪", "美", "慧", "艳", "云", "琳", "莉", "洁", "芬", "颖", "妹", "娣", "菊", "月",
    "勤", "翠", "惠", "琼",
];
/// Given-name characters for people born from 1985.
pub const YOUNGER_MALE: [&str; 30] = [
    "子", "浩", "宇", "轩", "睿", "泽", "梓", "俊", "博", "文", "一", "辰", "铭", "晨", "航", "嘉",
    "奕", "皓", "宸", "煜", "杰", "涛", "磊", "鹏", "凯", "毅", "昊", "然", "哲", "逸",
];
pub const YOUNGER_FEMALE: [&str; 30] = [
    "欣", "怡", "梓", "涵", "诗", "雨", "可", "馨", "思", "佳", "语", "诺", "萱", "彤", "悦", "婉",
    "若", "晴", "瑶", "婷", "倩", "雯", "琪", "妍", "蕾", "晓", "薇", "璐", "佩", "菲",
];

/// Region codes (first six digits of ID numbers) besides Qingpu's 310118: the old
/// Qingpu county code, other Shanghai districts, and the home regions of newcomers.
pub const REGIONS_SHANGHAI: [&str; 6] =
    ["310229", "310104", "310110", "310115", "310112", "310117"];
pub const REGIONS_ELSEWHERE: [&str; 12] = [
    "320584", "330421", "341302", "411627", "510322", "362329", "420117", "430524", "500228",
    "370830", "610124", "320623",
];

/// Mobile number prefixes of the three carriers.
pub const MOBILE_PREFIXES: [&str; 24] = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "177", "180", "185", "186", "189", "199",
];

/// Addresses of owners who live outside the subdistrict.
pub const OUTSIDE_ADDRESSES: [&str; 6] = [
    "上海市徐汇区漕溪北路",
    "上海市闵行区七莘路",
    "上海市松江区人民北路",
    "上海市长宁区天山路",
    "上海市嘉定区城中路",
    "江苏省苏州市吴江区中山南路",
];

/// Chinese numerals for grid and group names: 1 → 一, 11 → 十一, 23 → 二十三.
pub fn numeral(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[n % 10]),
        20..=99 => {
            let tail = if n % 10 == 0 { "" } else { D[n % 10] };
            format!("{}十{}", D[n / 10], tail)
        }
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerals_read_as_chinese() {
        assert_eq!(numeral(1), "一");
        assert_eq!(numeral(10), "十");
        assert_eq!(numeral(11), "十一");
        assert_eq!(numeral(20), "二十");
        assert_eq!(numeral(23), "二十三");
    }
}
