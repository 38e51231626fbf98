"""Fold Traditional Chinese characters into their Simplified forms, so both scripts give the classifier one text.

The task classifier's learned model (`task_model`) counts Chinese character pairs. Unfolded, a prompt typed
in Taiwan or Hong Kong ("請問這個程式碼為什麼會當機") shares few pairs with its mainland twin
("请问这个程式码为什么会当机"), so what the model learned from one script would not carry over to the other. Only
the script is folded: words stay regional (程式 is not turned into 程序), which the lexicons handle by listing both.

The table maps one character to one character, so offsets into the text stay valid and the fold is a single
`str.translate` call, cheap enough for every request. It holds the most frequent Traditional characters of everyday
and technical Chinese, about 1,500, and only those whose Simplified form does not depend on context: 鍊 (炼 when
smelting, 链 in a necklace) is left out. A few characters that Simplified also keeps fold too, as 著 (著名) to 着 and
乾 (乾坤) to 干; that is harmless because Simplified text goes through the same fold, so both scripts still agree.
No Simplified character in the table is also a Traditional one in it, so folding twice changes nothing.
The pairs are OpenCC's default Traditional-to-Simplified character mappings (TSCharacters, Apache-2.0), each
checked against MediaWiki's conversion table, ordered by frequency in a Traditional rendering of jieba's word list.
"""

from __future__ import annotations

from typing import Final

# Aligned: the n-th character of each string is one pair. Most frequent first.
_TRADITIONAL: Final = (
    "國個會學來這發為爲們時長業經於動產進區後體門過現機開軍種實裏麼關裡員東當兩戰間頭說説樣場資務數點無對"
    "級內沒義漢統電應氣著見萬計聲設問領議導華總權術決結幾隊規兒別題變報馬濟運組師處書條風論農職選記聯歷陽"
    "廣張黃質認稱專備傳際強爭類話舉達遊團縣線爾車價調積邊從黨單準亞眾衆佈轉參幹許據難構臺觀親劃裝況紀帶飛"
    "復勢網語紅圖織標編證羣還隨辦樂確斷連鐵極覺節護創視響擊羅熱維遠顯採製費係雙責識興滿試魚營項續輕態寶藥"
    "嚴環範將龍協醫該聽習藝檢圍終餘愛驗宮賽負陸離獨鬥適財勞優衛勝細屬約層階蘇狀彈銀養橋戶較號樓預蘭審監須"
    "緊園陳輯億並獲絕徵衝執溫繼雖聞壓簡雲劉僅築則鄉盡傷歐臉臨擔樹歡銷堅劇詞鎮敵荊額揮測寧島葉禮剛陣給貴評"
    "貨遺談願豐險夠訓異礦鮮礎練畫楊訴順孫錄顧驚敗殺納澤祕擴輸請讀錯幫筆亂畢塊爺腦灣腳與轄靜減鍾雜獻婦換漸"
    "錢館慶寫乾懷廠吳靈複盤齊喫趕榮補側療幣穩佔歸載庫頓劍憲針軟麗惡飯擁擇誤謝媽購屆絡隻巖輪詩託討貿歲頂紛"
    "綠徑戲儘閉魯韋獎跡講隱陰訪莊匯峯釋慮綜奧潛聖槍絲揚尋賣圓鐘卻奪脫煙儀牆碼舊損牀倫課燈緩潤頁買競搖紙紹"
    "烏頻橫艦燒績趙糧謂繫鋼劑壞籤壯虛諸紡滅稅廟謀薩觸嶺純廳崗奮貢縱訂貧貝蓋韓蓮夥縮脈殘徹讓麥輩儲諾詢峽嶽"
    "譽鋒鏡貫蟲廢啓贊緒覽偉傾膽駐鳳淚晉緣厲齡噸啟誌閱閲雞隸髮寬鍵壇閃棄顏訊閣蕩曉慣鄧騎災溝誠躍鬆腸罷擺淨"
    "蔣夢違冊賞閒辭飲濃鄭趨汙併闖鹽勁遷貸譯騰屍濕踐岡飾傑賓鬧溼頃畝憤攝肅窮漲鴻遞懸輔闊輝漁陝錦毀壽臘藍煩"
    "銅纖鹹掛煉萊郵繞繪凱貼罰紐襲鋪撫驅麵鍋鳥暫遼賢涼湯喪賦盧賊詳嘆帳帥遲慘勵賴猶輛債膠憂擾迴駕鑑艱籌償菸"
    "掃曆髒搶礙盜塗鄰叢擬闆轟腫諮薦綱蹟釐恆塵頒膚脅喬軌湧潔鎖滾診糾錫臟牽讚禦暢檔齒辯憶彌顆戀兇攔獅鬱樞籃"
    "鳴閥賀爐虧蹤詔欄獵輻嘗偵賈禎憑彎殼緯噴俠籠紋爛軸駛遙豬聰獄剝邏淺闢渾懲瑪龐鏈譜蒼樑獸註銳鋭飄霧瑤憐馮"
    "誕鑽貪禍蘆樸謙敘馳繩懼撥惱勸鶴綿貞攜灘偽僞豔喚誘闡捨呂鹼鷹縫倉誇壩撲穀罵鵝頑脹洩僑濱擋遜磚悶夾瘋銘邁"
    "蝕餚謹騙窩狹臥鄖碩鵬鑄軒僕牴欽賠誼賬攤悅淵棲犧艙紗廈漿擠潰脣疇厭紮滲捲凍僱蕭飽嬰頸茲諧燭恥疊掙贏顛娛"
    "締兌鈞鞏撐腎譚銜勳褲輿煥訟櫃蠻醜豈纏販韻殲蘊黴鍛飼諒鬍稟壟禪侖賭鴉囑顫瀋丟倆暈氫盃傢嚇棗滯餅摺濤籲廚"
    "皺驟拋軀祿飢鰭幟齋蠟貓剎慾枴騷綢勻鴨淪嶼瀏廂誰啞釀慄餓澱鈴崙緻斬嘯嬌贈賜繳妝廬龜寵崑曠糰悽傭燦蘋潑桿"
    "濫簾嚮轎賄癡蘿頌驕傘釘閻蠶滄詐繡諷湊釗窯詭饒凜尷豎撈壺晝懶灑屢醬誦鱘竊駁鵑瀟瓊詫渦葦螢癒謠錐虜墳駭廝"
    "彙賤駝訝繕釣貯緬倖壘譴鉛襯袞鈉穫鏢鋁紳譁貶滷絨懇鱗曬鑼矚蔔穎鄒寢棟聳錘聶儉鴿窪纜瑣縛洶謊斂馴蝦頰濾竈"
    "吶墜鈎鉤訣廁搗攪斃暉鮑諭鑿囂墊羈鴣羨癢鷓瞞頗攏攬膩瀉撓盞橢謬慚駱駒嬸蟻蔥騾驀鑰噹韌賺贛緝饑諫嘔擱閘莖"
    "鉀瀾侶爍鬚嗚稜竅姦諱彥鴛瑩鈣驢鴦墾縷闕磯竇檯絞饅綴朧綽濁訌閨饋驛覓餈矯檻蠅樁禱槓皁澀鎊柵澆賂瀕滬綁篩"
    "窺睜糞瀰蕪擲憚熒嬪癱閩殯狽誣刪睞禿噁膿璽轅譏櫻駙粵綻瘡墮嵐錶諜喲僥贓螞懾弔顱頜鬨蔭憊襪詣硃躊嶄燻覷棧"
    "鬮澇繹緞拚礫鋸鑲燉嚨殭摯聾瀝屜羥鈔箏姍欖癮頤錠餾鏟鯰貽綏蹌轍誅燙軋滌蘄辮鋮頹塢雛嗎鏽隴瓏挾箇竄嫺嫻龔"
    "誡嚕槳鰉餉輟鈍贖熾躋攢穌絢隕釁篤鯉嘰穢翹醞錚瘍飪餃瘓輾癲籬堯綵謎鯊繚駿噓烴筍餵楓嫋躪靂燾薊蹺硯鬢檳鯨"
    "詠閹邇蟬襖憫賃嘖綸韜嬤濺剋鱔誨檸颱攙氈閔亙簫蠍魷鉗縴繮韁摻韃繃彆攣贅槨餌駟鰍獰毆絹釵驍鶻婁滸樺沖鄲鵲"
    "堊塹痙瀘錳悵澗櫥鐲糉鴟嘮飴鰣諺鯢瀆繭漬綬藹錨驊巒骯愜匱鏤躡撾鍍鮎賑馭儼絆蓀鸚麯巔箋嶇鋤鰲瘧繆綺醃稈鈕"
    "詛鋅曄睏覲鈺鱷蓴蝸鱖壎諳煬踴颼噥櫚甕涇蛻訛濛軾嘍諶惻鯿簍犛礄輓餞獼鸞緘鵡懺鈾颯薈鶯騁髏繽輒檜燼諄謨鎂"
    "蘚蝨褻擄猙薑諦謗鳩銖銬愾缽鉢矇饃軼鐧灤鐮牘罈齦飆罌諂鉻鎢縹薔謄虯鷗皰緲訥嫵渙顎詮靦斕礪餡吒錮閂囪愷"
    # Below the frequency cut yet common in prompts: 佇 (佇列, a queue), Hong Kong spellings (綫, 搵, 衞, 敍),
    # and older forms that Taiwan now writes 才 and 麵 (纔, 麪).
    "佇綫纔麪搵衞敍"
)
_SIMPLIFIED: Final = (
    "国个会学来这发为为们时长业经于动产进区后体门过现机开军种实里么关里员东当两战间头说说样场资务数点无对"
    "级内没义汉统电应气着见万计声设问领议导华总权术决结几队规儿别题变报马济运组师处书条风论农职选记联历阳"
    "广张黄质认称专备传际强争类话举达游团县线尔车价调积边从党单准亚众众布转参干许据难构台观亲划装况纪带飞"
    "复势网语红图织标编证群还随办乐确断连铁极觉节护创视响击罗热维远显采制费系双责识兴满试鱼营项续轻态宝药"
    "严环范将龙协医该听习艺检围终余爱验宫赛负陆离独斗适财劳优卫胜细属约层阶苏状弹银养桥户较号楼预兰审监须"
    "紧园陈辑亿并获绝征冲执温继虽闻压简云刘仅筑则乡尽伤欧脸临担树欢销坚剧词镇敌荆额挥测宁岛叶礼刚阵给贵评"
    "货遗谈愿丰险够训异矿鲜础练画杨诉顺孙录顾惊败杀纳泽秘扩输请读错帮笔乱毕块爷脑湾脚与辖静减钟杂献妇换渐"
    "钱馆庆写干怀厂吴灵复盘齐吃赶荣补侧疗币稳占归载库顿剑宪针软丽恶饭拥择误谢妈购届络只岩轮诗托讨贸岁顶纷"
    "绿径戏尽闭鲁韦奖迹讲隐阴访庄汇峰释虑综奥潜圣枪丝扬寻卖圆钟却夺脱烟仪墙码旧损床伦课灯缓润页买竞摇纸绍"
    "乌频横舰烧绩赵粮谓系钢剂坏签壮虚诸纺灭税庙谋萨触岭纯厅岗奋贡纵订贫贝盖韩莲伙缩脉残彻让麦辈储诺询峡岳"
    "誉锋镜贯虫废启赞绪览伟倾胆驻凤泪晋缘厉龄吨启志阅阅鸡隶发宽键坛闪弃颜讯阁荡晓惯邓骑灾沟诚跃松肠罢摆净"
    "蒋梦违册赏闲辞饮浓郑趋污并闯盐劲迁贷译腾尸湿践冈饰杰宾闹湿顷亩愤摄肃穷涨鸿递悬辅阔辉渔陕锦毁寿腊蓝烦"
    "铜纤咸挂炼莱邮绕绘凯贴罚纽袭铺抚驱面锅鸟暂辽贤凉汤丧赋卢贼详叹帐帅迟惨励赖犹辆债胶忧扰回驾鉴艰筹偿烟"
    "扫历脏抢碍盗涂邻丛拟板轰肿咨荐纲迹厘恒尘颁肤胁乔轨涌洁锁滚诊纠锡脏牵赞御畅档齿辩忆弥颗恋凶拦狮郁枢篮"
    "鸣阀贺炉亏踪诏栏猎辐尝侦贾祯凭弯壳纬喷侠笼纹烂轴驶遥猪聪狱剥逻浅辟浑惩玛庞链谱苍梁兽注锐锐飘雾瑶怜冯"
    "诞钻贪祸芦朴谦叙驰绳惧拨恼劝鹤绵贞携滩伪伪艳唤诱阐舍吕碱鹰缝仓夸坝扑谷骂鹅顽胀泄侨滨挡逊砖闷夹疯铭迈"
    "蚀肴谨骗窝狭卧郧硕鹏铸轩仆抵钦赔谊账摊悦渊栖牺舱纱厦浆挤溃唇畴厌扎渗卷冻雇萧饱婴颈兹谐烛耻叠挣赢颠娱"
    "缔兑钧巩撑肾谭衔勋裤舆焕讼柜蛮丑岂缠贩韵歼蕴霉锻饲谅胡禀垄禅仑赌鸦嘱颤沈丢俩晕氢杯家吓枣滞饼折涛吁厨"
    "皱骤抛躯禄饥鳍帜斋蜡猫刹欲拐骚绸匀鸭沦屿浏厢谁哑酿栗饿淀铃仑致斩啸娇赠赐缴妆庐龟宠昆旷团凄佣灿苹泼杆"
    "滥帘向轿贿痴萝颂骄伞钉阎蚕沧诈绣讽凑钊窑诡饶凛尴竖捞壶昼懒洒屡酱诵鲟窃驳鹃潇琼诧涡苇萤愈谣锥虏坟骇厮"
    "汇贱驼讶缮钓贮缅幸垒谴铅衬衮钠获镖铝绅哗贬卤绒恳鳞晒锣瞩卜颖邹寝栋耸锤聂俭鸽洼缆琐缚汹谎敛驯虾颊滤灶"
    "呐坠钩钩诀厕捣搅毙晖鲍谕凿嚣垫羁鸪羡痒鹧瞒颇拢揽腻泻挠盏椭谬惭骆驹婶蚁葱骡蓦钥当韧赚赣缉饥谏呕搁闸茎"
    "钾澜侣烁须呜棱窍奸讳彦鸳莹钙驴鸯垦缕阙矶窦台绞馒缀胧绰浊讧闺馈驿觅糍矫槛蝇桩祷杠皂涩镑栅浇赂濒沪绑筛"
    "窥睁粪弥芜掷惮荧嫔瘫闽殡狈诬删睐秃恶脓玺辕讥樱驸粤绽疮堕岚表谍哟侥赃蚂慑吊颅颌哄荫惫袜诣朱踌崭熏觑栈"
    "阄涝绎缎拼砾锯镶炖咙僵挚聋沥屉羟钞筝姗榄瘾颐锭馏铲鲶贻绥跄辙诛烫轧涤蕲辫铖颓坞雏吗锈陇珑挟个窜娴娴龚"
    "诫噜桨鳇饷辍钝赎炽跻攒稣绚陨衅笃鲤叽秽翘酝铮疡饪饺痪辗癫篱尧彩谜鲨缭骏嘘烃笋喂枫袅躏雳焘蓟跷砚鬓槟鲸"
    "咏阉迩蝉袄悯赁啧纶韬嬷溅克鳝诲柠台搀毡闵亘箫蝎鱿钳纤缰缰掺鞑绷别挛赘椁饵驷鳅狞殴绢钗骁鹘娄浒桦冲郸鹊"
    "垩堑痉泸锰怅涧橱镯粽鸱唠饴鲥谚鲵渎茧渍绶蔼锚骅峦肮惬匮镂蹑挝镀鲇赈驭俨绊荪鹦曲巅笺岖锄鳌疟缪绮腌秆钮"
    "诅锌晔困觐钰鳄莼蜗鳜埙谙炀踊飕哝榈瓮泾蜕讹蒙轼喽谌恻鳊篓牦硚挽饯猕鸾缄鹉忏铀飒荟莺骋髅缤辄桧烬谆谟镁"
    "藓虱亵掳狰姜谛谤鸠铢铐忾钵钵蒙馍轶锏滦镰牍坛龈飙罂谄铬钨缥蔷誊虬鸥疱缈讷妩涣颚诠腼斓砺馅咤锢闩囱恺"
    # Below the frequency cut yet common in prompts: 佇 (佇列, a queue), Hong Kong spellings (綫, 搵, 衞, 敍),
    # and older forms that Taiwan now writes 才 and 麵 (纔, 麪).
    "伫线才面揾卫叙"
)

# Checked at import so that a slip while editing the strings fails every test rather than misaligning pairs.
assert len(_TRADITIONAL) == len(_SIMPLIFIED), "the two strings must pair up character by character"
assert len(set(_TRADITIONAL)) == len(_TRADITIONAL), "a Traditional character is listed twice"
assert not set(_TRADITIONAL) & set(_SIMPLIFIED), "a Simplified form is itself folded, so folding would not be stable"

FOLD_TABLE: Final[dict[int, int]] = str.maketrans(_TRADITIONAL, _SIMPLIFIED)


def fold_traditional(text: str) -> str:
    """Traditional characters mapped to their Simplified form, one character for one; everything else unchanged."""
    return text.translate(FOLD_TABLE)
