"""The crisis rule table, as data: every pattern the detector knows, with its guards.

Each ``rule(name, kind, score, pattern, guards, unless=..., also=..., scope=...)`` is a regular
expression over ``canonical`` text; ``matching`` says what a rule is and what each guard and
scope means, and applies the table. The detector reports the highest-scoring rule that fires as
``pattern:NAME``.

Adding a rule: write it against ``canonical`` text ("i am", "do not", "can not", "going to"),
give it the guards it needs, put the harmless readings you can think of in ``unless``, and
add a crisis and a near-miss sentence to ``tests/test_crisis_detection.py``. Run
``benchmarks/safety.py`` with and without ``--no-embedder`` before and after.
"""

from __future__ import annotations

from .matching import JOKE, LAUGH, MEDIA, MESSAGE, NEG, OTHER, PAST, SENTENCE, TOPIC, WORK, Rule, rule
from .signals import CrisisKind

__all__ = ["RULES"]

S, SH, HO, AB, MED = (  # short names for the rule table
    CrisisKind.SUICIDAL,
    CrisisKind.SELF_HARM,
    CrisisKind.HARM_TO_OTHERS,
    CrisisKind.ABUSE_OR_DANGER,
    CrisisKind.MEDICAL_EMERGENCY,
)

# -- shared fragments -----------------------------------------------------------------------

# Where people self-injure; an ankle, a knee or a shoulder "hurt" is usually a sports injury.
_SELF_BODY = (
    r"(?:myself|my (?:own )?(?:wrists?|arms?|forearms?|upper arms?|thighs?|legs?|skin|stomach|belly|hips?|"
    r"body|wrist area))"
)
_PILLS = (
    r"(?:pills?|tablets?|meds|medications?|medicine|capsules?|caps|tylenol|paracetamol|acetaminophen|"
    r"ibuprofen|advil|aspirin|xanax|benzos?|valium|klonopin|oxy\w*|percocets?|opioids?|painkillers?|"
    r"ambien|insulin|antidepressants?|sertraline|zoloft|prozac|fluoxetine|lithium|seroquel|quetiapine|"
    r"vicodin|codeine|tramadol|heroin|fentanyl|morphine|lorazepam|ativan|gabapentin|benadryl|"
    r"sleeping pills|sleep(?:ing)? aids?|edibles?|antihistamines?|iron pills|blood thinners?|\w+ pills|"
    r"\w+ tablets)"
)
_RELATIVE = (
    r"(?:husband|wife|partner|boyfriend|girlfriend|fiance|fiancee|spouse|ex|ex-?husband|ex-?wife|"
    r"ex-?boyfriend|ex-?girlfriend|ex-?partner|dad|daddy|father|mom|mommy|mother|mum|stepdad|stepfather|"
    r"stepmom|stepmother|step-?dad|step-?mom|step-?father|step-?mother|brother|sister|uncle|aunt|grandpa|"
    r"grandfather|grandma|grandmother|roommate|flatmate|housemate|parents?|son|daughter|cousin|family|"
    r"carer|caregiver|landlord|in-?laws?|mother-in-law|father-in-law|guardian)"
)
_PERSON_NOT_ME = rf"(?:he|she|they|my (?:[\w']+ )?{_RELATIVE})"
_TARGET = (  # the person a threat or urge is aimed at
    r"(?:him|her|them|someone|somebody|anyone|anybody|whoever|anyone who|the next (?:person|guy|one)|"
    rf"people|everyone|everybody|my (?:\w+ )?(?:{_RELATIVE}|boss|coworkers?|co-workers?|colleagues?|"
    r"manager|baby|babies|newborn|infant|toddler|kids?|child|children|neighbou?rs?|teacher|classmates?|"
    r"bully|bullies)|the (?:baby|newborn|kids?|children|teacher|neighbou?rs?|guy|man|woman|boss|bastard|"
    r"bully|bullies|people|boy|girl|person|students?)|(?:that|this) (?:guy|man|woman|bitch|bastard|"
    r"asshole|prick|dude|kid|teacher|boss|manager|coach|neighbou?r|landlord|girl|boy|lady|cop|officer|"
    r"doctor|nurse|driver|person|idiot|bully|coworker|colleague|student|professor|prof|family|creep)|"
    r"those (?:people|guys|kids)|all of them|every(?:one|body) (?:at|in) (?:work|school|class))"
)

_NOT_ME_DIE = (
    r"\bmy (?!life\b|own\b)\w+(?: \w+)? (?:want|wants|wanted|is going|are going|need|needs|is about|"
    r"are about|is ready|are ready|is trying|are trying) to (?:die|end)\b|\b(?:phone|battery|laptop|plant|"
    r"car|computer|tv|legs|feet|brain|wifi|charger|headphones|motivation|social life)\b.{0,40}\bdie\b|"
    r"\b(?:it|that|this) is (?:about|going) to die\b"
)
_MEANS = (
    r"\b(?:gun|pistol|rifle|revolver|shotgun|pills|tablets|rope|noose|knot|blade|blades|razor|knife|"
    r"knives|knife block|cord|belt|ledge|bridge|tracks|railway|balcony|scissors)\b"
)
_FIXATION = (
    r"\b(?:keep|kept|been|just|am|sitting|sat|standing|can not stop|could not stop)(?: here|"
    r" there)? (?:looking|staring|holding|glancing|gazing)(?: at)? (?:it|them|the \w+|my \w+)\b"
)
_SOMEONE_NEAR = (
    r"\b(?:he|she|they|my (?:\w+ )?\w+) (?:is|are) (?:asleep|sleeping|in the next room|next door|home|"
    r"downstairs|upstairs|in bed|lying next to me|in the other room|napping)\b"
)

# "overdosed on cake / Netflix / the gym": an overdose "on" something that is not a drug, a medicine,
# alcohol or a poison is a figure of speech (a real one names the substance or says "on purpose").
_OVERDOSE_ON_TREAT = (
    r"\bover ?dos(?:e|ed|ing) on (?!(?:[\w']+ ){0,3}?(?:"
    + _PILLS
    + r"|drugs?|purpose|something|stuff|them|it|these|those|alcohol|booze|vodka|heroin|fentanyl|coke|"
    r"cocaine|meth|ketamine|mdma|molly|ecstasy|opiates?|bleach|poison|antifreeze|insulin|xanax)\b)"
)

# -- the rules ------------------------------------------------------------------------------

RULES: tuple[Rule, ...] = (
    # ---- suicidal: intent, plan, means, passive wishes, goodbyes, slang
    rule(
        "suicidal_intent",
        S,
        0.97,
        r"\b(?:kill(?:ing|ed)?|kil|end(?:ing|ed)?|off(?:ing)?|unaliv(?:e|ing|ed)|hang(?:ing|ed)?|"
        r"shoot(?:ing)?|drown(?:ing)?|gas(?:sing)?|suffocat(?:e|ing)|electrocut(?:e|ing)|"
        r"self[- ]?delet(?:e|ing)|delet(?:e|ing)|neck(?:ing)?|rope|roping) myself\b",
        (NEG, PAST, LAUGH),
        unless=r"\bkilling myself (?:with|over|for|at|trying|working|studying|to)\b(?!.{0,25}\b(?:pills|"
        r"tablets|alcohol|drink\w*|drugs|rope|gun)\b)|\bkill(?:ing|ed)? myself (?:laughing|with laughter|"
        r"to (?:get|finish|make|meet|pass)|over (?:this|that|it)|at (?:the gym|work|training)|working|"
        r"studying|training|for (?:this|that|nothing|a (?:job|grade|boss)))|"
        r"\bdrown(?:ing)? myself in (?:work|coffee|tea|music|books|games|paperwork|homework|chores|tv|"
        r"netflix|series|shows)|\bshoot(?:ing)? myself in the foot|\bdelet(?:e|ing) myself (?:from|off)|"
        r"\bhang(?:ing)? myself (?:up|out)|\boff myself to\b|\bend myself (?:up|a)",
    ),
    rule(
        "suicidal_end_life",
        S,
        0.97,
        r"\b(?:end|ending|take|taking|took)(?: away)? my (?:own )?life\b|\bend(?:ing)? it all\b|"
        r"\bend(?:ing)? (?:it|everything|things|my suffering|the pain) (?:tonight|today|now|soon|for good|"
        r"forever|once and for all|this week|this weekend)\b|\bend(?:ing)? everything\b|"
        r"\bcommit(?:ting)? (?:suicide|sewerslide|die)\b|\bsuicide (?:plan|note|letter|attempt|pact)\b|"
        r"\bmy suicide\b|\b(?:tried|try|trying|attempt(?:ed|ing)?|going|planning|plan|"
        r"want(?:ed)?) to (?:end it|kill myself|end my life|die)\b",
        (NEG, PAST, LAUGH),
        unless=r"\bend(?:ing)? (?:it|things|everything) with (?:him|her|them|my)\b|\bsuicide (?:note|"
        r"letter|plan) "
        r"(?:in|from) (?:the|a) (?:book|film|movie|show)|" + _NOT_ME_DIE,
    ),
    rule(
        "suicidal_thoughts",
        S,
        0.93,
        r"\b(?:i am|i feel|i felt|i have been|been|feeling|feel|felt|getting|get|so|really|very|pretty|"
        r"kinda|kind of|a bit|extremely|actively|passively|quite|super|still|always|"
        r"constantly) (?:\w+ )?suicidal\b|\bsuicidal (?:thoughts?|ideation|feelings?|urges?|again|tonight|"
        r"right now|lately|today|and)\b|\bthoughts? (?:of|about) (?:suicide|killing myself|ending (?:it|"
        r"my life)|dying|death|not being here|not existing)\b|\b(?:thinking|thought|think|dreaming|"
        r"fantasi[sz]ing) (?:a lot |more )?(?:about|of) (?:suicide|sewerslide|killing myself|ending (?:it|"
        r"it all|my life|things|everything)|dying|my death|how to die|death all|death a lot|"
        r"not being here|not existing|just not waking up)\b|\b(?:considering|contemplating|planning|"
        r"researching|googling|looking up) (?:suicide|sewerslide|ways to die|how to die|methods)\b",
        (NEG, PAST, TOPIC, WORK, OTHER),
        unless=r"\b(?:not|never|no longer) (?:feeling |been |being )?suicidal\b|\bending (?:it|things|"
        r"everything) with\b",
    ),
    rule(
        "suicidal_wish_to_die",
        S,
        0.95,
        r"\b(?:going|about) to die (?:tonight|today|soon|by my own hand)\b|\b(?:want|wanted|wanting|wish|"
        r"wishing|hope|hoping|ready|deserve|need|planning) to (?:just |finally |simply )?(?:die|be dead|"
        r"not exist|not be alive|stop existing|cease to exist|stop living|disappear forever|"
        r"go to sleep forever|sleep forever|never wake up|not wake up|vanish forever)\b|"
        r"\bwish(?:ing)? (?:i|i was|i were|i had|i would) (?:was |were |be |been )?(?:dead|never born|"
        r"not born|never been born|died|never existed|not alive|gone)\b|\bwish(?:ed)? i (?:could|"
        r"would) (?:just )?(?:die|disappear|not wake up|fall asleep and never wake up|stop existing)\b|"
        r"\bi should (?:just )?(?:die|be dead|kill myself)\b|\b(?:better|happier) off dead\b|"
        r"\b(?:just )?let me die\b|\bi (?:want|crave) death\b|\bwould not mind (?:if i )?(?:dying|died|"
        r"not waking up|being dead|did not wake up|never woke up|did not exist|was gone|was dead|"
        r"just died)\b|\bpray(?:ing)? (?:i|to) (?:die|not wake up)\b|\b(?:hope|hoping|pray|praying|wish|"
        r"wishing)(?: that)? i (?:just |simply )?(?:will not|would not|do not|never|did not|"
        r"not) wake up\b|\b(?:go to sleep|fall asleep|sleep|close my eyes|"
        r"go to bed) and (?:just )?(?:never|not) (?:have to )?(?:wake up|face (?:another day|tomorrow|"
        r"the world|anything)|open my eyes again|come back)\b|\b(?:just |only )?waiting (?:to die|"
        r"for (?:death|my death|it all to end|the end|my time to come|god to take me))\b|\b(?:excuse|"
        r"reason|permission) to die\b|\b(?:fell|fall|falling) asleep and (?:just )?(?:did not|never|not|"
        r"would not) wake up\b|\bbetter off (?:not existing|not alive|not being alive|not here|"
        r"not being here|gone|never born|never having been born)\b|\b(?:do not|does not|"
        r"no longer) (?:really |even )?care (?:if|whether) i (?:live|die|wake up|make it|survive)\b|"
        r"\b(?:being dead|death|dying|not existing|not being alive) (?:would be|has to be|must be|is|"
        r"sounds|seems|feels|looks|would feel) (?:so |really |kind of |kinda |more |like )?(?:better|"
        r"peaceful|easier|a relief|nice|appealing|comforting|welcome|inviting|tempting|preferable|"
        r"an escape)\b|\bwant (?:out|it (?:all )?to (?:end|stop)|everything to (?:end|"
        r"stop))\b.{0,30}\b(?:for good|forever|permanently)\b|\bdisappear (?:and never come back|"
        r"forever|for good|permanently)\b|\b(?:waste of (?:space|oxygen|air|a life)|(?:world|"
        r"everyone) (?:does not|would not) need me)\b",
        (NEG, PAST, LAUGH),
        unless=r"\bdie (?:of|from|with|laughing) (?:embarrassment|shame|laughter|cringe|boredom|laughing|"
        r"happiness|excitement|old age)|\b(?:want|hope|ready) to die (?:old|happy|peacefully|"
        r"in my sleep at|at home surrounded)|\bbefore i die\b|\bdie on (?:this|that) hill\b|\bdying to\b|"
        r"\bdie (?:my|her|his) hair\b|\bwake up (?:early|at \d|before|until|till|in time|late|hungover|"
        r"with a)|\bthe end of (?:the|this|my) \w+|" + _NOT_ME_DIE,
    ),
    rule(
        "suicidal_no_will_to_live",
        S,
        0.93,
        r"\b(?:do not|does not|no longer|never|not) (?:really |even |want to |wish to )?(?:want|wish|"
        r"care) to (?:live|be alive|exist|keep living|stay alive|wake up|be here anymore|be here any more|"
        r"be around anymore|be on this earth|go on|keep going|continue living)\b|"
        r"\bnothing (?:left )?to live for\b|\bno (?:reason|point|purpose|will) (?:in |to |of )?(?:living|"
        r"live|being alive|life|staying alive|going on|waking up|keep going|carry on)\b|\b(?:do not|"
        r"can not) see (?:the|any) point (?:of|in) (?:living|life|being alive|going on|waking up|"
        r"anything anymore|trying anymore|staying alive|carrying on)\b|\bwhat is the point (?:of|"
        r"in) (?:living|life|being alive|going on|waking up|anything anymore|staying alive)\b|"
        r"\bnot worth living\b|\blife is not worth it\b|\b(?:tired|sick|exhausted|done) (?:of|"
        r"with) (?:living|being alive|life|existing|my life|this life|breathing|waking up|"
        r"fighting to (?:stay alive|live|survive|keep going)|trying to (?:stay alive|survive|keep going)|"
        r"staying alive|surviving)\b|\bcan not (?:go on|keep going|keep living|do life|"
        r"live like this) (?:anymore|any more|any longer)\b|\bdone with (?:it all|everything) (?:forever|"
        r"for good)\b|\bi give up on (?:life|living)\b|\bcan not (?:picture|imagine|"
        r"see) (?:myself )?(?:being alive|living|still being here|being here|existing|making it|surviving|"
        r"getting older|growing old|being around)\b|\bpart of me (?:wants to (?:die|not exist|not wake up|"
        r"disappear|end it|give up on life|stop existing)|does not want to (?:live|be here|wake up|exist|"
        r"make it|survive|go on|keep going|be alive)\b|does not want to$)",
        (NEG, PAST),
        unless=r"\b(?:tired|sick|done) of (?:this life|my life) (?:of|as|in)\b|\bwaking up (?:early|at \d|"
        r"so early|before|for work|to)|\bwake up (?:early|at \d|before|for|so early|this early|"
        r"on (?:a )?(?:saturday|sunday|weekend)|in the morning for|to go)|\blie-?in\b|\bsleep in\b",
    ),
    rule(
        "suicidal_no_future",
        S,
        0.86,
        r"\b(?:do not|can not) (?:see|have) (?:a|any) (?:future|way forward|way out|reason to (?:live|"
        r"keep going|go on))(?: for myself)?\b|\bthere is no way out\b|\bno way out (?:of this|but|except|"
        r"other than)\b|\b(?:do not|can not) (?:think|see how) i (?:am going to|will|can) (?:make it|"
        r"survive|last|hold on|get) (?:through|past|until|to the end of|much|another)\b|"
        r"\bnot going to make it (?:through|past|to) (?:this|the) (?:year|month|week|night|weekend)\b",
        (NEG, PAST),
        unless=r"\bwith (?:him|her|them|my|this)\b|\bin (?:this|my|the) (?:job|career|company|"
        r"relationship|field|city|town|country|industry|role|team)\b|\bat (?:this|my) (?:job|company)\b|"
        r"\b(?:meeting|class|exam|workday|shift|lecture|deadline|season|game|contract|lease|semester|term|"
        r"without coffee|marathon)\b",
    ),
    rule(
        "suicidal_burden",
        S,
        0.9,
        r"\b(?:better|happier|easier) (?:off )?without me\b|\bbetter off with (?:a different|another|"
        r"someone else|a new)\b|\bi am (?:just |only )?(?:a|such a) burden (?:to|on)\b|\b(?:no one|nobody|"
        r"no-one) (?:would|will) (?:even )?(?:care|notice|miss me)\b.{0,20}\bif i (?:died|was gone|"
        r"were gone|disappeared|killed myself|was dead|were dead|was not here|were not here)\b|"
        r"\bif i (?:died|was gone|were gone|disappeared|was dead) (?:no one|nobody) would (?:care|notice|"
        r"miss)\b|\b(?:easier|better|simpler) (?:for everyone )?to (?:just )?(?:not (?:be alive|exist|"
        r"be here|be around|wake up)|die|be dead)\b|\b(?:easier|better|simpler|"
        r"best) (?:for everyone )?if i (?:had |would have |would )?never (?:existed|been born)\b|"
        r"\b(?:easier|better|simpler|best) (?:for everyone )?if i (?:just )?(?:was not|were not|"
        r"was no longer|were no longer) (?:here|around|alive)\b|\b(?:easier|better|"
        r"simpler) (?:for everyone )?if i (?:just )?(?:was|were) (?:gone|dead)\b|\b(?:easier|"
        r"better) (?:for everyone )?if i (?:just )?(?:died|disappeared|did not exist|never existed|"
        r"did not wake up)\b|\b(?:would|will) (?:probably |honestly |all |just |secretly )?be (?:relieved|"
        r"better off|happier|glad|fine|okay)\b.{0,30}\bif i (?:just |simply )?(?:disappeared|was gone|"
        r"were gone|died|was not here|were not here|did not exist|was not around|left for good|"
        r"was dead)\b|\bif i (?:got|get|was|were) (?:hit by (?:a )?(?:car|bus|truck|train)|in (?:a|"
        r"an) (?:accident|crash)|killed)\b.{0,60}\b(?:relie(?:f|ved)|would not (?:mind|care)|okay with|"
        r"fine with|glad|a blessing|at peace|welcome it|not (?:even )?care)\b|\b(?:wish|hope|hoping|pray|"
        r"praying)(?: that)? (?:i|something|a car|a bus|a truck|someone) (?:would |will )?(?:had|get|got|"
        r"gets|would get|catch|develop|kills? me|takes? me|hits? me|"
        r"runs? me over)\b.{0,30}\b(?:terminal|cancer|fatal|incurable|deadly|killed|accident|crash|over|"
        r"on the way|dead)\b|\b(?:hope|hoping|pray|praying|wish|wishing)(?: that)? (?:i|a car|a bus|"
        r"a truck|something|someone) .{0,25}\b(?:crash|accident|hit me|hits me|kill me|kills me|"
        r"run me over|runs me over|take me|takes me)\b|\bif i (?:just )?(?:died|did not wake up|"
        r"never woke up|was gone|were gone|did not exist|stopped existing)\b.{0,40}\b(?:fine|okay|"
        r"a relief|relieved|good thing|blessing|would not mind|would not care|not be so bad|better)\b|"
        r"\b(?:fine|okay|ok|alright|happier|better|lighter|freer) without me\b|\b(?:would|will) (?:\w+ ){0,2}?"
        r"(?:cope|manage|move on|get over it|forget me)\b.{0,30}\bif i (?:just |simply )?(?:disappeared|"
        r"vanished|was gone|were gone|died|was not here|were not here|did not exist)\b",
        (NEG, PAST),
        unless=r"\bwithout me (?:for|at|while|this|tonight|on)\b|\bwhile i am away\b|\bburden (?:on|to) "
        r"(?:the|this|our|my) (?:group chat|chat|team|server|class|group|project)\b|\bwith (?:all )?my "
        r"(?:memes|jokes|puns|questions|spam|voice notes|bad puns)\b",
    ),
    rule(
        "suicidal_not_here",
        S,
        0.92,
        r"\b(?:will not|am not going to|might not|may not|probably will not|not going to|do not plan on|"
        r"do not plan to|not planning on|not planning to) (?:be|being) (?:here|around|alive) (?:anymore|"
        r"any more|much longer|for much longer|for long|any longer|to (?:see|tell|say|watch|meet|read|"
        r"hear)|by (?:the )?(?:morning|tomorrow|weekend|end of)|(?:after|past|beyond) (?:tomorrow|tonight|"
        r"today|this week|the weekend|friday|saturday|sunday|monday|tuesday|wednesday|thursday))\b|"
        r"\bnot (?:be|being) (?:here|around|alive) (?:anymore|any more|any longer)\b|"
        r"\bno longer be (?:here|around|alive)\b|\b(?:when|after|once) i am (?:gone|dead)\b|"
        r"\b(?:do not think|doubt) i (?:will|am going to|would) (?:be|still be) (?:here|around|"
        r"alive) (?:much longer|for long|by|next|to)\b|\b(?:will not|am not going to) need (?:the|my|this|"
        r"it|any of this|your)\b.{0,30}\b(?:after|past|beyond) (?:tonight|today|tomorrow)\b|"
        r"\bwill be gone (?:soon|forever|by)\b",
        (NEG, PAST),
        unless=r"\bi am gone (?:on|for|to|next|this|until)\b|\b(?:phone|battery|laptop|job|account|flying|"
        r"flight|travel\w*|trip|abroad|leaving for|moving|vacation|holiday|holidays|away|festival|camping|"
        r"hospital for|surgery|company|office|team|role)\b",
    ),
    rule(
        "suicidal_goodbye",
        S,
        0.9,
        r"\bthis is (?:my )?(?:goodbye|farewell|the end(?! of)|my last (?:message|post|text|night|"
        r"goodbye))\b|\bsaying (?:my )?goodbyes? to (?:everyone|everybody|all of you|you all|the world)\b|"
        r"\bgoodbye (?:forever|cruel world|world)\b|\bmy (?:very )?last (?:words|goodbye|message (?:ever|"
        r"to (?:you|everyone|anyone|the world)))\b|\bmy last (?:night|day) (?:alive|on earth)\b|"
        r"\bwanted to say (?:bye|goodbye) to someone\b|\b(?:(?:picked|set|chose|chosen|choosing|"
        r"picking) (?:a|the) (?:date|day)|(?:a|the) (?:date|day) (?:picked|set|"
        r"chosen))\b.{0,40}\b(?:note|letter|will|ready|goodbye|bye)\b|\b(?:note|letter|"
        r"will)\b.{0,40}\b(?:picked|set|chose|chosen) (?:a|the) (?:date|day)\b|\b(?:sorted|sorting|"
        r"putting|put|got|getting) (?:out )?my (?:affairs|accounts|passwords|finances) (?:in order|"
        r"sorted)?\b.{0,60}\b(?:ready|goodbye|bye|gone|go|note|given away)\b|\btell (?:my \w+|him|her|"
        r"them|everyone) (?:that )?i (?:love|loved) (?:him|her|them|"
        r"you)\b.{0,60}\b(?:not (?:going to )?be (?:around|here)|will not be (?:around|here)|goodbye|"
        r"gone)\b|\b(?:wrote|writing|written|left|leaving|drafted|drafting|recorded|"
        r"recording) (?:\w+ ){0,2}?(?:goodbye|farewell|last|suicide) (?:notes?|letters?|messages?|"
        r"texts?|posts?|emails?|videos?)\b|\b(?:giving|gave|give|given) away (?:all )?(?:of )?my (?:stuff|"
        r"things|belongings|possessions|pets?|cat|dog|guitar|games)\b|"
        r"\bsorry for everything\b.{0,40}\b(?:goodbye|bye|love you)\b|\b(?:love you all|"
        r"take care of (?:my|mom|dad|the)).{0,40}\bgoodbye\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:moving|move|declutter\w*|minimalis\w*|spring clean\w*|donat\w*|before i (?:move|"
        r"leave for)|vacation|holiday|trip|logging off|for the (?:night|weekend|week|summer)|see you|"
        r"until|new job|graduat\w*|goodbye (?:party|card|lunch|drinks)|old year|new year|hello)\b",
    ),
    rule(
        "suicidal_plan",
        S,
        0.95,
        r"\bnoose\b|\bexit bag\b|\b(?:stockpil\w+|hoard\w*|sav(?:ed|ing) up|stash\w*|collect(?:ed|"
        rf"ing)) (?:my |all my |all of my |up |some )?{_PILLS}\b|\benough {_PILLS} to (?:die|kill|end|"
        r"not wake|overdose|od|do it)\b|\b(?:counted|counting|count) (?:out )?(?:my |the |all (?:my |"
        rf"the )?)?{_PILLS}\b|\b(?:\d{{2,}}|twenty|thirty|forty|fifty|a hundred) (?:of )?(?:my |the |his |"
        rf"her |my [\w']+ )?{_PILLS}\b.{{0,30}}\b(?:hidden|hid|stash\w*|saved|in my (?:drawer|room|bag|"
        r"car))\b|\b(?:swallow|take|down|overdose on) (?:everything|all of it|the lot|whatever i can find|"
        r"all the (?:pills|meds|tablets)) (?:in|from) the (?:medicine cabinet|cabinet|cupboard|first aid|"
        r"bathroom)\b|\bjump(?:ing|ed)? (?:off|from) (?:a |the |my |this |that )?(?:\w+ )?(?:bridge|"
        r"building|roof|rooftop|balcony|cliff|ledge|overpass|tower|parking (?:garage|deck|structure)|"
        r"window|car park)\b|\b(?:jump|step|walk|throw myself|lie down|lay down)(?:ing|"
        r"ed)? (?:in front of|on(?:to)?|under) (?:a |the )?(?:train|bus|car|truck|subway|traffic|lorry|"
        r"tracks|railway|metro)\b|\b(?:drive|driving|crash|crashing|swerve|swerving|steer|"
        r"steering) (?:my car )?(?:into|off) (?:a |the )?(?:tree|wall|bridge|cliff|oncoming|traffic|pole|"
        r"barrier|river|lake|truck|other lane|opposite lane|lorry|bus|central reservation|median|"
        r"embankment)\b|\b(?:loaded|cleaning|holding|sitting with|got|have|bought|found) (?:a |my |the |"
        r"my dad'?s |his )?(?:loaded )?(?:gun|pistol|revolver|shotgun|rifle|"
        r"firearm)\b.{0,60}\b(?:myself|my head|end|tonight|do it|die)\b|\b(?:tonight|today|tomorrow|"
        r"this weekend) (?:is|will be) the (?:night|day)\b|\bmy plan is to (?:\w+ ){0,3}?(?:jump|hang|"
        r"overdose|walk into|drive into|take (?:all|the|my) (?:pills|tablets)|shoot|drown|end)\b|"
        r"\b(?:garage|car)\b.{0,30}\bengine (?:running|on)\b|\bengine (?:running|"
        r"on)\b.{0,30}\b(?:garage|hose|windows? (?:up|closed|shut))\b|\b(?:razor|blades?|"
        r"knife)\b.{0,40}\b(?:bath|tub) (?:is )?(?:running|filling|ready|run)\b|\b(?:bath|"
        r"tub) (?:is )?(?:running|filling|ready|run)\b.{0,40}\b(?:razor|blades?|knife)\b|\b(?:work|"
        r"build|get|gather|muster|find|working|building|getting|gathering|mustering|"
        r"finding) (?:up )?the (?:courage|nerve|guts) to (?:jump|do it|go through with it|end it|step|"
        r"take them|pull the trigger|let go)\b|\b(?:tonight|today|this weekend|"
        r"tomorrow) i am (?:finally )?going to do it\b|\bi am (?:finally )?going to do it (?:tonight|"
        r"today|this weekend|tomorrow)\b.{0,60}\b(?:someone to know|i tried|goodbye|bye|sorry|note|"
        r"forgive|love you|made up my mind)\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\b(?:minecraft|fortnite|video game|in game|the game|roblox|skyrim|sims|bungee|parachute|"
        r"skydiv\w*|diving board|into the (?:pool|lake|water|sea) for fun|hunting|shooting range|"
        r"range day)\b|\bnoose (?:knot|emoji)\b|\bhistory\b|\bdeer\b",
    ),
    rule(
        "suicidal_method_research",
        S,
        0.93,
        rf"\bhow many (?:of )?(?:my |the |these |those )?{_PILLS}\b.{{0,40}}\b(?:to (?:die|not wake up|"
        r"never wake up|kill|end|overdose|od)|would (?:it )?take|does it take|is (?:lethal|fatal|deadly|"
        r"enough))\b|\b(?:lethal|fatal|deadly|toxic) (?:dose|amount|overdose)\b|\b(?:painless|easiest|"
        r"quickest|fastest|best|surest|quietest|least painful|most effective) (?:way|ways|method|"
        r"methods) to (?:die|kill myself|end (?:it|my life)|go|commit|do it)\b|\bhow (?:to|do i|can i|"
        r"would i|could i) (?:die|end it|end my life|overdose|od)\b|\bhow (?:much|"
        r"many)\b.{0,30}\b(?:would|does|will|to|it takes to|does it take to) (?:kill|be fatal to|"
        r"be lethal (?:to|for)) (?:someone|somebody|a person|an adult|me|you|a human)\b|\b(?:most|"
        r"least) (?:lethal|deadly|painful (?:way|method))\b|\bhow long (?:it takes|does it take|"
        r"would it take|until you|before you) to (?:bleed out|die|drown|suffocate|lose consciousness|"
        r"pass out from)\b|\bbleed(?:ing)? out\b",
        (NEG, PAST, MEDIA, WORK),
        unless=r"\b(?:minecraft|fortnite|video game|in game|the game|roblox|skyrim|sims|pharmacology|exam|"
        r"for (?:my|a) (?:class|course|essay|novel|book|story)|plants?|dog|cat|pet|caffeine|coffee)\b",
    ),
    rule(
        "suicidal_rope_or_enough",
        S,
        0.92,
        r"\b(?:bought|buying|got|have|found|tied|tying|hung|hanging) (?:a |the |some |my )?(?:rope|noose|"
        r"cord)\b|\b(?:(?:so|now) i (?:have|got) enough|there is enough|that is enough|should be enough|"
        r"will be enough|is that enough|have enough now)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:not for (?:camping|climbing|work|the garden|a project)|neck|myself|ceiling|beam|tree|"
            rf"closet|tonight|strong enough|hold my weight|knot|{_PILLS}|blades?|razors?)\b",
        ),
        scope=MESSAGE,
        unless=r"(?<!not for )\b(?:climb\w*|camping|sail\w*|boat|swing|washing line|clothesline|gym|"
        r"skipping|jump rope|tow|dog|horse|crafts?|macrame|sleep|money|savings|food|time|vitamins?)\b",
    ),
    rule(
        "suicidal_rather_dead",
        S,
        0.9,
        r"\b(?:would|had) rather (?:be dead|die|not exist|not be alive|not wake up|not be here)\b",
        (NEG, PAST, LAUGH),
        unless=r"\bthan (?!(?:keep|go on|continue|live|living|feel|feeling|wake up|spend|another day|face|"
        r"exist|existing|be alive|being alive|stay)\b)\w+",
    ),
    rule(
        "suicidal_own_funeral",
        S,
        0.86,
        r"\b(?:imagin\w*|pictur\w*|think\w* about|thought about|dream\w* about|fantasi[sz]\w* about|"
        r"planning) my (?:own )?funeral\b",
        (NEG, PAST, TOPIC),
        also=(r"\b(?:want|relief|peace|who would come|would come|better|miss me|sad|cry|soon)\b",),
        scope=MESSAGE,
        unless=r"\b(?:insurance|lawyer|pre-?paid|will and testament|grandma|grandad|mum'?s|dad'?s)\b",
    ),
    rule(
        "suicidal_at_location",
        S,
        0.92,
        r"\b(?:on|at|standing on|sitting on|up on|near|by) (?:the |a |this |top of the |the top of the |"
        r"edge of the |the edge of the |my )?(?:bridge|ledge|roof|rooftop|edge|platform|train platform|"
        r"tracks|train tracks|railway|cliff|cliffs|overpass|balcony railing|top floor|parking garage|"
        r"car park roof|station|train station|tube station|subway station|metro station|multi-?storey|"
        r"car ?park|tower block)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:jump|jumping|step|stepping|fall|falling|do not want to (?:go back|come down|come home|"
            r"go home|leave)|looking down|the next (?:one|train)|end it|let go|over the edge|how high|"
            r"how far down|into the water|no one would (?:see|stop)|thinking about it|just do it|"
            r"keep thinking about|closer to the edge|edge of the platform|courage)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:bungee|skydiv\w*|dive|diving|swim\w*|photos?|pictures?|view|sunset|sightseeing|"
        r"tourist|hik\w*|climb\w*|concert|fireworks|scared of heights|afraid of heights|vertigo|parkour|"
        r"waiting for (?:the|my) train|late|delayed|commute|gym|box jumps?|trampoline|skate\w*|yoga)\b",
    ),
    rule(
        "suicidal_courage_at_means",
        S,
        0.9,
        r"\b(?:work|build|get|gather|muster|find|working|building|getting|gathering|mustering|"
        r"finding) (?:up )?the (?:courage|nerve|guts)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:cliffs?|bridge|edge|ledge|roof|tracks|pills|tablets|rope|gun|blade|razor|platform|"
            r"balcony|water|river|train)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:ask (?:her|him|them) out|bungee|skydiv\w*|dive|diving|sing|speech|presentation|quit|"
        r"confess|tell (?:her|him|them|my)|apply|interview|zip ?line|climb\w*|swim\w*|photo\w*)\b",
    ),
    rule(
        "suicidal_drowning_plan",
        S,
        0.92,
        r"\b(?:walk|walking|wade|wading|swim|swimming)(?: out)? (?:into|out into|out to|"
        r"into the middle of) the (?:sea|ocean|river|lake|water|waves)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:tonight|plan|planning|never come back|not come back|until|stones|rocks|pockets|weights|"
            r"for good|end|going to|keep walking)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:paddle|paddling|swimsuit|swimming costume|wetsuit|surf\w*|beach day|holiday|"
        r"vacation|for fun|snorkel\w*|kayak\w*|photo\w*|cold water|wild swim\w*|dip|triathlon|training|"
        r"lessons?)\b",
    ),
    rule(
        "suicidal_means_fixation",
        S,
        0.9,
        _FIXATION,
        (NEG, PAST, TOPIC),
        also=(_MEANS,),
        scope=MESSAGE,
        unless=r"\b(?:shop|store|buy|buying|price|amazon|online|catalog\w*|website|recipe|menu|chef|"
        r"cook\w*|museum|exhibit\w*|collection|craft\w*|sharpen\w*|view|sunset|photo\w*)\b",
    ),
    rule(
        "suicidal_slang",
        S,
        0.95,
        r"\b(?:kms|kmsself|ctb|c\.t\.b|sewerslide|unaliv(?:e|ing|ed)|self[- ]?delet(?:e|ing|ion)|"
        r"game[- ]?end myself|toaster bath|commit not alive|catch(?:ing)? the bus (?:tonight|soon|"
        r"for good|forever)|permanent(?:ly)? (?:sleep|nap|solution)|final exit|i want out of (?:life|"
        r"this world|existence))\b",
        (NEG, PAST, TOPIC, LAUGH),
        unless=r"\bkmsl\b|\bunaliv\w* (?:him|her|them|the|a|my (?:\w+ )?(?:character|plants?))\b|"
        r"\b(?:what does|what do|meaning of|stands? for|means)\b",
    ),
    rule(
        "suicidal_command_voices",
        S,
        0.93,
        r"\b(?:voices?|the voice|something in my head) (?:is |are |keep |keeps )?(?:telling|tell|tells|"
        r"told|ordering|commanding|want|wants) me to (?:kill myself|die|jump|end it|hurt myself|cut)\b",
        (NEG, PAST, TOPIC),
    ),
    rule(
        "suicidal_other_person_now",
        S,
        0.9,
        r"\b(?:he|she|they|my (?:\w+ ){0,2}(?:friend|bestie|bff|partner|brother|sister|son|daughter|mom|"
        r"dad|mother|father|husband|wife|boyfriend|girlfriend|roommate|kid|child|cousin|coworker|"
        r"classmate))(?: just)? (?:is|are|was|said|says|told me|texted|messaged|posted|keeps saying|"
        r"threatened|threatens|wants|is going|is about|is trying|just tried|tried|is planning)(?: me|"
        r" that)?(?: (?:he|she|they)(?: is| are| was| will| would|'s)?)? (?:going |about |planning |"
        r"trying |wants |want |tried |to )?(?:to )?(?:kill (?:himself|herself|themselves|themself)|"
        r"end (?:his|her|their) (?:own )?life|commit suicide|jump off|overdose|hang (?:himself|herself|"
        r"themselves))\b",
        (NEG, PAST, TOPIC, WORK),
    ),
    rule(
        "suicidal_decided",
        S,
        0.86,
        r"\bi (?:have )?(?:finally )?(?:decided|made up my mind|made my decision|"
        r"made the decision)\s*(?:[.!:;,-]|$)",
        (NEG, PAST),
        also=(
            r"\b(?:tonight|tomorrow|sunday|monday|tuesday|wednesday|thursday|friday|saturday|this weekend|"
            r"after (?:everyone|they|the kids|my \w+)(?:'s)? (?:is |are |has |have )?(?:gone to bed|"
            r"asleep|left|gone out|out)|when (?:everyone|they) (?:is|are) asleep|it is time|no going back|"
            r"goodbye|for good)\b",
        ),
        scope=MESSAGE,
    ),
    rule(
        "suicidal_means_scouting",
        S,
        0.88,
        r"\b(?:bridges?|buildings?|roofs?|rooftops?|cliffs?|car parks?|parking garages?|towers?|"
        r"overpass(?:es)?)\b.{0,40}\b(?:without|do not have|does not have|with no|no) (?:barriers|"
        r"fences?|nets?|railings?|security|cameras)\b|\b(?:high|tall|far down|deep) enough to (?:die|kill|"
        r"not survive|be fatal|end it)\b|\btrains?\b.{0,40}\b(?:do not stop|does not stop|"
        r"fastest through|without stopping|non-?stop|go straight through)\b.{0,40}\b(?:station|"
        r"platform)\b",
        (NEG, PAST, MEDIA),
        unless=r"\b(?:engineer\w*|architect\w*|safety (?:report|audit|campaign)|council|petition|commute|"
        r"late for|travel(?:l)?ing to|photo\w*|skydiv\w*|bungee|base jump\w*|dive|diving)\b",
    ),
    rule(
        "suicidal_notes_left",
        S,
        0.88,
        r"\b(?:wrote|written|writing|write|left|leaving|leave) (?:\w+ ){0,2}?(?:notes?|letters?) (?:for|"
        r"to) (?:my (?:\w+ )?(?:kids|children|son|daughter|family|wife|husband|mum|mom|parents|partner|"
        r"sister|brother|friends|boyfriend|girlfriend)|everyone|each of them|the people i love)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:lunch\w*|teacher|school|birthday|christmas|thank[- ]you|grocery|shopping|reminder|"
        r"fridge|chores?|list|holiday|babysitter|valentine\w*|anniversary|love notes? in|cards?|wedding)\b",
    ),
    rule(
        "suicidal_plan_means",
        S,
        0.9,
        r"\b(?:the|my) plan is\b.{0,60}\b(?:gun|rifle|pistol|shotgun|pills|tablets|rope|noose|bridge|"
        r"cliff|train|tracks|roof|blade|razor|exhaust|garage|overdose|jump|hang|drown)\b|\b(?:i know|"
        r"i have worked out|i have figured out|i have decided) (?:exactly )?(?:how|where|when) i (?:will|"
        r"am going to|would) (?:do it|end it|die|kill myself)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:photo\w*|hik\w*|walk|picnic|run|running|train to|catch the train|trip|holiday|cycle|"
        r"ride|sunset|tour|workout|gym)\b",
    ),
    rule(
        "suicidal_farewell",
        S,
        0.88,
        r"\b(?:goodbye|bye|farewell)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:thank you for everything|thanks for everything|sorry (?:it was not|i was not|"
            r"for everything|for being)|(?:it|you|i) (?:was|were) not enough|you did (?:your|"
            r"all you could)|i tried my best|take care of (?:them|my \w+|the (?:kids|dog|cat))|forgive me|"
            r"i love you all|this is the end)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:for now|see you|here for you|until|tomorrow|next (?:week|time|session)|later|"
        r"talk soon|for the (?:day|night|weekend)|have a (?:good|great|nice)|good ?night|ttyl|holiday|"
        r"vacation|trip|logging off|weekly|new job|moving|leaving (?:the|my) (?:job|company|team)|"
        r"last day at|retir\w*|graduat\w*)\b",
    ),
    rule(
        "suicidal_passive_hope",
        S,
        0.88,
        r"\b(?:hope|hoping|pray|praying|wish|wishing)\b.{0,30}\b(?:crashes|crash|hits me|kills me|"
        r"runs me over|takes me|take me|kill me|hit me|run me over)\b|\b(?:pray|praying|hope|hoping|wish|"
        r"wishing)(?: that)? (?:god|the lord|jesus|death|the universe|someone|something) (?:will |"
        r"would )?(?:takes?|let|lets) me (?:in my sleep|tonight|away|home|now|soon|die|go)\b",
        (NEG, PAST, LAUGH),
        unless=r"\b(?:does not|do not|will not|would not|never) (?:crash|kill|hit|take)\b|\b(?:market|"
        r"stock|server|computer|laptop|app|website|game|crash course|party|gig|wifi|flight is not|"
        r"tsunami of)\b|\bwhen i am old\b|\bone day\b",
    ),
    rule(
        "suicidal_final_preparations",
        S,
        0.88,
        r"\b(?:my|the) (?:last|final) (?:week|night|day|days|weekend|message|goodbye|time)\b|"
        r"\bplanning my (?:exit|way out|ending|final)\b|\bexit plan\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:getting (?:everything|things) ready|got everything i need|everything is ready|"
            r"ready to go|prepared|sorted (?:everything|it all|things) out|do not worry about|"
            r"will not need|anymore|goodbye|say bye|for good|no one will|nobody will|it will be over|"
            r"finally be over|at peace)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:job|work|handover|holiday|school|term|semester|contract|internship|vacation|trip|"
        r"move|moving|uni|university|college|shift|notice|course|role|company|startup|strategy|career|"
        r"party|relationship|challenge|diet|lease|season|tournament|streak|sale|offer|subscription|"
        r"before (?:the|my) (?:holiday|trip|exam|wedding))\b",
    ),
    rule(
        "suicidal_means_access",
        S,
        0.9,
        r"\b(?:light|lit|burn|burning) (?:the |some )?charcoal (?:in|inside) (?:my|the) (?:room|bedroom|"
        r"car|tent|flat|bathroom)\b|\bcharcoal\b.{0,60}\b(?:seal\w*|tape\w*|windows? (?:shut|closed)|"
        r"smoke alarm)\b|\b(?:smoke alarm|carbon monoxide alarm)\b.{0,40}\b(?:batteries|disconnect\w*|"
        r"took down|taken down|removed)\b|\b(?:razor|blades?)\b.{0,40}\b(?:bath|tub|bathtub)\b|"
        r"\b(?:bath|tub|bathtub)\b.{0,40}\b(?:razor|blades?)\b|\bmake (?:it|this|"
        r"my death) look like an accident\b|\b(?:suicide|death|dying|ending it|ending my life|"
        r"killing myself|sewerslide) (?:is|seems|feels like|looks like) (?:the |my )?(?:only|best|last|"
        r"easiest) (?:option|way|answer|choice|solution|way out|thing left|escape)\b|\bonly (?:option|"
        r"way out|answer|choice|solution) (?:left )?is (?:to die|death|suicide|dying|ending it|"
        r"killing myself)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:bbq|barbecue|grill|garden|drawing|sketch\w*|art class|shav\w*|legs|beard|novel|"
        r"story|plot|game|character|insurance fraud case|toaster)\b",
    ),
    rule(
        "suicidal_firearm_access",
        S,
        0.88,
        r"\b(?:gun|shotgun|rifle|pistol|revolver|firearm)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:shells|bullets|ammo|ammunition|loaded it|it is loaded|"
            r"the key to the (?:gun )?(?:cabinet|safe)|combination to the safe|out of the safe)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:hunt\w*|range|club|clay|licen[cs]e|season|deer|pheasant|duck|competition|airsoft|"
        r"paintball|nerf|museum|collection|film|movie|game|show|book|water gun)\b",
    ),
    rule(
        "suicidal_worn_out",
        S,
        0.88,
        r"\b(?:i am|i have been|i) (?:done|finished) fighting\b(?! (?:with|about|for|over))|"
        r"\bgive up fighting\b|\b(?:rest|sleep) forever\b|\beternal (?:rest|sleep)\b|\b(?:counting down|"
        r"waiting) (?:the days )?until i (?:can )?(?:finally )?(?:die|am gone|am dead|rest forever|can go|"
        r"leave this world|be free of (?:it|this|life))\b",
        (NEG, PAST, LAUGH),
        unless=r"\b(?:holiday|vacation|weekend|retire\w*|summer|christmas|payday|the end of (?:term|"
        r"the week|the year)|could (?:\w+ )?sleep forever|bed|nap|tired|exhausted|brutal|long (?:day|"
        r"week)|after (?:this|that) (?:week|shift|workout))\b",
    ),
    # ---- self-harm: current acts, urges, relapse
    rule(
        "self_harm_act",
        SH,
        0.95,
        r"\b(?:cut|cuts|cutting|slit|slitting|slice|sliced|slicing|carv(?:e|ed|es|ing)|scratch(?:ed|es|"
        r"ing)?|burn(?:ed|t|s|ing)?|punch(?:ed|ing)?|hit(?:s|ting)?|stab(?:bed|bing)?|bash(?:ed|ing)?|"
        rf"bruis(?:e|ed|ing)|mutilat\w*|bit|bite|biting) {_SELF_BODY}\b(?! up\b)|\b(?:hurt(?:s|ing)?|"
        r"harm(?:ed|s|ing)?|starv(?:e|ed|ing)|punish(?:ed|ing)?|pierc(?:e|ed|ing)) myself\b|\b(?:carv|cut|"
        r"scratch|etch|burn)\w* (?:\w+ ){1,4}?(?:into|in|on) my (?:skin|arms?|forearms?|legs?|thighs?|"
        r"wrists?|stomach|hips?|chest)\b",
        (NEG, PAST, WORK),
        unless=r"^(?!.*\b(?:lighter|razor|blade|scissors|compass|cigarette|on purpose|deliberately|"
        r"to punish)\b).*\b(?:by accident|accident\w*|by mistake|on (?:the|a|my) (?:oven|stove|pan|iron|"
        r"grill|tray|door|table|corner|kettle|curling iron|straightener|glass|paper|can|edge)|cooking|"
        r"chopping|baking|shaving|slicing (?:onions|bread|veg\w*|fruit)|at the gym|lifting|deadlift\w*|"
        r"squat\w*|running|playing|training|workout|skiing|fell|fall|tripped|slipped|sunburn\w*|"
        r"in the sun|sports?|football|soccer|basketball|hiking|climbing|stretching|yoga|ice skating|"
        r"skateboard\w*|bike|cycling|gardening|diy|tattoo\w*|piercing (?:shop|studio)|ears? pierced|"
        r"diet\w*|fasting|intermittent|keto|henna|sharpie|pen)\b|\bhurt(?:ing)? myself (?:by|"
        r"with) (?:overthinking|worrying|comparing|staying)\b|\bpunish(?:ing)? myself (?:with|"
        r"by) (?:extra|more|a|cold|early)\b",
    ),
    rule(
        "self_harm_relapse",
        SH,
        0.95,
        r"\b(?:cut|cutting|self[- ]?harm(?:ed|ing)?|sh(?:'?d|ed)?|burn(?:ed|ing|t)? myself|"
        r"hurt myself) again\b|\brelaps(?:e|ed|ing) (?:on|with|into|back into)? ?(?:self[- ]?harm\w*|sh|"
        r"cutting|burning|the blade)\b|\b(?:self[- ]?harm(?:ed|ing)?|sh(?:'?d|ed)) (?:again|last night|"
        r"today|yesterday|this (?:morning|week))\b|\bbroke my (?:\d+ (?:day|week|month|year)s? )?(?:sh|"
        r"self[- ]?harm|clean|cutting) streak\b|\b(?:used to|stopped|quit) (?:cut(?:ting)?|"
        r"self[- ]?harm\w*|sh|burn(?:ing)? myself|hurt(?:ing)? myself)\b.{0,80}\b(?:started (?:again|"
        r"back)|doing it again|did it again|again (?:last night|yesterday|today|this week)|relapsed)\b|"
        r"\b(?:started|starting|went back to|back to|picked up|pick up) (?:cutting|self[- ]?harm\w*|"
        r"the (?:blade|razor))(?: again)?\b",
        (NEG,),
        unless=r"\bcut(?:ting)? (?:again|back)? ?(?:on|down|out|back)\b|\bcut(?:ting)? (?:my|the|his|"
        r"her) \w+ again\b",
    ),
    rule(
        "self_harm_first_person",
        SH,
        0.92,
        r"\bi (?:\w+ ){0,3}?(?:self[- ]?harm(?:ed|ing|s)?|self[- ]?injur\w*|sh'?d)\b|"
        r"\bmy (?:self[- ]?harm|cutting|sh)\b|\b(?:urge|urges|craving|cravings|itch|need|temptation|"
        r"tempted|want(?:ing)?) to (?:cut(?! (?:down|back|out|off|the|it|ties|costs|carbs|sugar|in|"
        r"corners|class|school|loose|up|through|across|him|her|them|people|my (?!(?:arms?|wrists?|skin|"
        r"legs?|thighs?|self|body|stomach)\b)\w+))|self[- ]?harm|sh|burn myself|hurt myself|hit myself|"
        r"bleed|feel the blade)\b|\b(?:struggling|trying|fighting|trying hard|"
        r"doing my best) not to (?:cut|self[- ]?harm|sh|hurt myself|burn myself)\b|\b(?:fresh|new|deep|"
        r"open|bleeding) (?:cuts?|wounds?|gashes|burns) (?:on|all over|across) my\b|\bhid(?:e|ing)? (?:my|"
        r"the) (?:fresh |new )?(?:cuts|wounds|burns|bleeding)\b|\bcuts (?:on|all over|across) my (?:arms?|"
        r"wrists?|thighs?|legs?|stomach|hips?)\b|\b(?:razor|blade|lighter|knife)\b.{0,30}\b(?:on|"
        r"against|to|into) my (?:skin|wrists?|arms?|thighs?|legs?)\b|\bmake myself (?:bleed|throw up|puke|"
        r"vomit)\b|\bhow deep (?:to|should i|can i) cut\b|\b(?:blade|razor|razor blade|"
        r"box cutter)s? (?:is |are )?in my hand\b|\b(?:take|taking|took|taken) (?:it|"
        r"my (?:\w+ ){0,2}?(?:anger|pain|frustration|feelings?|rage|emotions?|stress|"
        r"hate)) out on my (?:own )?(?:body|skin|arms?|legs?)\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\bi (?:have |had )?(?:not|never|no longer)\b|\b(?:used to|years ago|scars from|old scars|"
        r"clean for|recovered|recovery|shav\w*|beard|craft\w*|x-?acto|carpet|boxes|unboxing)\b",
    ),
    rule(
        "self_harm_relapse_urge",
        SH,
        0.86,
        r"\b(?:about to|going to|close to|so close to|want to|trying not to|struggling not to|"
        r"fighting the urge to|scared i will|afraid i will|might) relapse\b",
        (NEG, PAST),
        unless=r"\b(?:drink\w*|alcohol|smok\w*|vap\w*|cigarettes?|sugar|diet|gambl\w*|porn|weed|nicotine|"
        r"caffeine|junk food|sober|sobriety|booze|beer|wine|heroin|drugs|using|binge\w*|cannabis|coke|"
        r"meth)\b",
    ),
    rule(
        "self_harm_until_injury",
        SH,
        0.9,
        r"\b(?:scratch|pick|pull|bite|bit|dig|dug|claw|rub|hit|punch|bang|banged|slam|"
        r"scrub)\w*\b.{0,40}\buntil (?:it|they|i|my \w+(?: \w+)?) (?:bleed|bleeds|bled|is bleeding|"
        r"are bleeding|bruise|bruised|bruises|split|splits|broke|break|scar|scarred|swell|swelled|"
        r"went numb|(?:am |are |is |was |were |felt |feel |went |go |turn |turned )?(?:dizzy|purple|"
        r"black and blue|raw|bloody|numb|bruised)|saw stars|blacked out)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:mosquito|bites|eczema|itch\w*|rash|allerg\w*|hives|chicken ?pox|psoriasis|sunburn|"
        r"dog|cat|puppy|kitten|baby|toddler|bug|code|homework|problem|spreadsheet|trying to)\b",
    ),
    rule(
        "self_harm_current",
        SH,
        0.92,
        r"\b(?:i am|i have been|been|i keep|keep|still|started|start|i was|i) cutting\b(?! (?:down|back|"
        r"out|carbs|sugar|my hair|the|it|onions|bread|costs|calories|ties|class|school|corners|people|off|"
        r"in|through|across|meat|veg\w*|fabric|paper|wood|grass|coupons|loose|up|them|him|her|toxic))|"
        r"\bcutting (?:every|each) (?:night|day|morning|evening|week)\b|\bi (?:cut|sh'?d|burned|"
        r"burnt) (?:again |myself )?(?:last night|yesterday|today|this morning|tonight|earlier|after)\b|"
        r"\brelaps\w*\b.{0,60}\b(?:razor|blade|cutting|cut)\b|\b(?:used|grabbed|got out|picked up|"
        r"took out) (?:the|my|a) (?:razor|blade|lighter|scissors|compass)s? again\b|"
        r"\bslipped up\b.{0,40}\b(?:razor|blade|cut|cutting|burn\w*)\b|\b(?:my|the) (?:cuts|wounds|"
        r"gashes)\b.{0,40}\b(?:deeper|worse|infected|bleeding|stitches|each time|every time|fresh|again|"
        r"hide|see them|from last night|still bleeding|getting)\b",
        (NEG, PAST, WORK),
        unless=r"\b(?:hair|haircut|budget|costs?|carbs|sugar|cake|class|onions|grass|lawn|coupons|ties|"
        r"out (?:of|alcohol|sugar|carbs)|cutting board|paper|fabric|wood|film|video|edit\w*|diet|calories|"
        r"gluten|dairy|meat|caffeine|alcohol|friends|people|toxic|paper cuts?|job cuts|price|cold cuts|"
        r"director|pay cuts?|tax cuts?|rough cut|final cut|acne|surgery|surgical|c-section|kitchen|"
        r"cooking|chef|knee|fell|bike|scraped|graze|tattoo|healing (?:well|nicely)|old scars|"
        r"cutting (?:down|back)|tree|hedge|grass)\b",
    ),
    rule(
        "self_harm_relapse_with_means",
        SH,
        0.9,
        r"\b(?:relaps\w*|slipped up|broke my (?:\w+ )?streak|threw it (?:all )?away)\b",
        (NEG, PAST, TOPIC),
        also=(r"\b(?:razor|blades?|cutting|cut|burn\w*|lighter|scissors|self[- ]?harm|bleed\w*)\b",),
        scope=MESSAGE,
        unless=r"\b(?:drink\w*|alcohol|smok\w*|vap\w*|cigarettes?|diet|gambl\w*|porn|weed|nicotine|sober|"
        r"booze|heroin|drugs|haircut|cut (?:out|back|down))\b",
    ),
    rule(
        "self_harm_hiding",
        SH,
        0.86,
        r"\b(?:hide|hiding|cover|covering|hid)\b.{0,20}\bmy (?:arms|wrists|thighs|legs|scars|cuts|marks|"
        r"burns)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:again|long sleeves|so no one (?:sees|notices|asks)|bandages?|plasters?|marks|cuts|"
            r"fresh|blood)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:fat|weight|flabby|wobbly|body image|insecure|pale|hairy|hair|tattoo\w*|acne|eczema|"
        r"psoriasis|rash|sunburn|stretch marks|bites|bug|mosquito|old scars|surgery|cellulite|veins|"
        r"moles?|birthmark)\b",
    ),
    rule(
        "self_harm_head_banging",
        SH,
        0.88,
        r"\b(?:hit|hitting|bang|banging|banged|slam|slamming|slammed|smash\w*) (?:my )?head (?:against|on|"
        r"into) (?:the|a) (?:wall|floor|door|desk)\b",
        (NEG, PAST, TOPIC),
        also=(r"\b(?:until|so hard|literally|bruis\w*|bleed\w*|dizzy|hurt|on purpose|again|keep)\b",),
        scope=SENTENCE,
        unless=r"\b(?:bug|code|problem|homework|maths?|spreadsheet|excel|project|essay|assignment|"
        r"trying to|figur\w*|understand|metaphor\w*|feels like|like i am|accident\w*|by mistake|fell|"
        r"slipped|tripped|cupboard|cabinet)\b",
    ),
    rule(
        "self_harm_head_hitting",
        SH,
        0.86,
        r"\b(?:hit|hitting|bang|banging|banged|slam|slamming|slammed|smash\w*|"
        r"punch\w*) (?:my )?head (?:on|against|into|with)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:when i (?:get|am|feel)|every day|overwhelmed|angry|upset|on purpose|can not stop|keep|"
            r"until|so hard|to feel|punish)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:ceiling|cupboard|cabinet|door ?frame|shelf|bunk|car door|accident\w*|by mistake|low|"
        r"beam|bug|code|problem|homework|trying to|figur\w*|like a)\b",
    ),
    rule(
        "self_harm_kept_blade",
        SH,
        0.88,
        r"\b(?:keep|kept|hide|hid|hidden|stash\w*|carry|carrying)\b (?:a |the |my |some )?(?:razor|"
        r"razor blades?|blades?|sharpener blade)s?\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:for when|when it gets bad|just in case|in case|pencil case|hidden|under my|"
            r"in my (?:drawer|bag|room|wallet|case|pocket))\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:shav\w*|beard|craft\w*|x-?acto|carpet|boxes|unboxing|skates?|blender|mower|wiper)\b",
    ),
    rule(
        "self_harm_other_person_now",
        SH,
        0.88,
        r"\b(?:he|she|they|my (?:[\w']+ ){0,2}(?:friend|bestie|bff|partner|brother|sister|son|daughter|"
        r"kid|child|cousin|roommate|girlfriend|boyfriend))\b.{0,40}\b(?:going to|about to|wants to|will|"
        r"is trying to) (?:cut|hurt|harm|burn) (?:himself|herself|themselves|themself)\b",
        (NEG, PAST, TOPIC, WORK),
    ),
    rule(
        "self_harm_mention",
        SH,
        0.82,
        r"\bself[- ]?harm(?:ing)?\b",
        (NEG, PAST, TOPIC, WORK, OTHER),
        scope=SENTENCE,
        unless=r"\b(?:friend|sister|brother|daughter|son|kid|child|student|teen|teenager|client|patient|"
        r"someone|people|partner|he|she|they|her|his|their|them|him|study|studying|module|psychology|"
        r"class|lecture|course|assignment|coursework|exam|revision|topic|presentation|how (?:do|can|"
        r"should) (?:i|we|you) (?:help|support|talk|spot|know)|support|awareness|about|signs|teachers?|"
        r"parents?|research|prevention|training|course|used to|history|former|past|recovered|recovery|"
        r"clean|free|proud|instead of|alternatives? to)\b",
    ),
    rule(
        "self_harm_on_purpose",
        SH,
        0.92,
        r"\b(?:on purpose|deliberately|intentionally|to punish myself|as (?:a )?punishment|so i (?:could|"
        r"would|can) feel (?:something|pain|it)|to feel (?:something|pain|the pain|in control)|"
        r"only way i feel)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:punch|punched|punching|hit|hitting|bang|banged|banging|slam|slammed|burn|burned|burnt|"
            r"burning|cut|cutting|scratch\w*|bruis\w*|hurt|hurting|injur\w*|starv\w*|bleed|bled|bleeding|"
            r"pick\w*)\b",
            r"\b(?:my (?:knuckles|hands?|head|arms?|legs?|skin|fists?|wrists?|body|thighs?|stomach)|"
            r"myself|the walls?|a wall)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:dropped|fell|tripped|snooze|toast|dinner|cake|cookies|bridges|calories|playlist|cd|"
        r"photos?)\b",
    ),
    # ---- harm to others: intent, urges, weapons
    rule(
        "harm_to_others_intent",
        HO,
        0.93,
        r"\b(?:i am going to|i will|i want to|i am about to|i swear i will|i am planning to|i plan to|"
        r"planning(?: how)?(?: to)?|plotting(?: how)?(?: to)?|figuring out how to|i feel like|"
        r"i have the urge to|urges? to|thoughts (?:of|about)|think(?:ing)? (?:about|of)|imagin(?:e|ing)|"
        r"picturing|visuali[sz]ing|dream(?:ing)? (?:about|of)|fantasi[sz]\w* about|i might|"
        r"i am scared i will|i am afraid i will|i am scared i might|i am afraid i might|"
        r"i keep thinking about|i really want to|i need to|going to|i could|i am ready to|"
        r"i am starting to)(?: \w+){0,2}? (?:kill(?:ing)?|murder(?:ing)?|stab(?:bing)?|shoot(?:ing)?|"
        r"strangl(?:e|ing)|chok(?:e|ing)|hurt(?:ing)?|beat(?:ing)? up|beat(?:ing)?|attack(?:ing)?|"
        r"poison(?:ing)?|smother(?:ing)?|drown(?:ing)?|run(?:ning)? over|shake|shaking|harm(?:ing)?|"
        rf"suffocat(?:e|ing)|punch(?:ing)?|hit(?:ting)?|end|ending) {_TARGET}\b|\b(?:going to|will|want to|"
        r"about to|planning to|i could|i might) run (?:him|her|them|my \w+|that \w+) (?:over|down)\b|"
        r"\b(?:find|hunt down|track down|get|catch)\b.{0,40}\band (?:end|kill|stab|shoot|hurt|destroy|"
        r"finish) (?:him|her|them)\b|\bmake (?:him|her|them) (?:bleed|suffer|scream) (?:like|the way|as|for)\b|"
        r"\bwant (?:him|her|them|(?:my|the|that|this) \w+) to (?:actually |"
        r"really |finally )?(?:get hurt|die|bleed|be hurt|be dead|end up dead|end up in (?:hospital|"
        r"the hospital|a coffin))\b|\b(?:going to|might|will|could|about to|think i am going to|"
        r"afraid i will|scared i will)(?: \w+){0,2}? do something (?:bad |terrible |stupid |"
        r"awful )?to (?:him|her|them|my \w+|the \w+)\b|\b(?:afraid|scared|terrified|"
        r"worried) (?:that )?i (?:will|might|could|am going to) do (?:worse|something worse|"
        r"something terrible|something bad)\b",
        (NEG, PAST, TOPIC, JOKE),
        unless=r"\b(?:hurt(?:ing)? (?:his|her|their|your) feelings|feelings|in (?:the )?(?:game|minecraft|"
        r"fortnite|chess|mario ?kart|match|debate)|at (?:chess|cards|tennis|pool|poker|the game|"
        r"mario ?kart)|with kindness|beat (?:him|her|them|everyone|my \w+) (?:at|in|to|by)|hit (?:him|her|"
        r"them) up|kill (?:it|time)|worried i (?:will|might) hurt (?:him|her|them|someone) by|"
        r"accidentally|debate|argument|do something (?:nice|special|sweet|for)|surprise|birthday|tournament|"
        r"next round|semi-?finals?|finals?|league|sparring|scrimmage|race)\b",
    ),
    rule(
        "harm_to_others_urges",
        HO,
        0.92,
        r"\b(?:thoughts|urges|urge|fantasies|images|intrusive thoughts|impulses?) (?:of|about|"
        r"to) (?:hurting|killing|harming|stabbing|shooting|drowning|smothering|strangling|shaking|hitting|"
        r"pushing|shoving|hurt|kill|harm|stab|shoot|drown|smother|strangle|shake|hit|push|shove) (?:my |"
        r"the |a |someone|somebody|people|him|her|them|others|other people|strangers)|\bscared (?:of what|"
        r"that) i (?:might|will|could) do to (?:him|her|them|my|the baby)\b|\bi (?:am going to|will|might|"
        r"could) (?:snap and |lose it and )(?:hurt|kill|hit|attack) (?:someone|somebody|him|her|them|"
        r"my)\b|\b(?:voices?|the voice|something in my head) (?:is |are |keep |keeps )?(?:telling|tell|"
        r"tells|told|ordering|commanding|want|wants) me to (?:hurt|kill|stab|harm|attack|shoot|drown|"
        r"poison|punish) (?!myself)\w+|\bbeat (?:the )?(?:shit|crap|hell|living daylights|life|"
        rf"snot) out of {_TARGET}",
        (NEG, PAST, TOPIC, WORK, JOKE),
        unless=r"\b(?:in (?:the )?(?:game|minecraft|fortnite|chess|mario ?kart|match)|at (?:chess|cards|"
        r"tennis|pool|poker|the game|mario ?kart|fifa))\b",
    ),
    rule(
        "harm_to_others_means_fixation",
        HO,
        0.91,
        _FIXATION,
        (NEG, PAST, TOPIC),
        also=(_MEANS, _SOMEONE_NEAR),
        scope=MESSAGE,
    ),
    rule(
        "harm_to_others_weapon",
        HO,
        0.95,
        r"\b(?:bring|bringing|take|taking|brought|carry|carrying) (?:(?:a|my|the|his|her|"
        r"their)(?: \w+'?s)? )?(?:gun|knife|rifle|weapon|pistol|bomb|machete|bat) (?:to|into) (?:school|"
        r"work|the office|class|campus|church|the party|his|her|their|the meeting|the game)\b|"
        r"\bshoot(?:ing)? up (?:the |my |our |his |her |their )?(?:school|office|work|workplace|place|"
        r"class|mall|church|party)\b|\bmake (?:them|him|her|everyone) (?:all )?pay\b.{0,30}\b(?:gun|"
        r"knife|blood|hurt|kill|die)\b|\b(?:they|he|she|everyone) (?:will|is going to|"
        r"are going to) (?:all )?(?:pay|regret it|be sorry)\b.{0,40}\b(?:gun|knife|blood|kill|hurt)\b|"
        r"\bhit list\b|\bkill (?:them|everyone|everybody) all\b",
        (NEG, PAST, TOPIC, JOKE),
        unless=r"\b(?:spotify|playlist|songs?|bestsellers?|bucket list|to-?do|to watch|bat mitzvah|"
        r"cricket|baseball|softball)\b",
    ),
    rule(
        "harm_to_others_armed_revenge",
        HO,
        0.9,
        r"\b(?:knife|gun|bat|weapon|rifle|pistol|machete|axe|hammer|crowbar)\b",
        (NEG, PAST, TOPIC, JOKE),
        also=(
            r"\b(?:his|her|their) (?:address|house|place|schedule|route)\b|\bknow where (?:he|she|"
            r"they) (?:lives?|works?|sleeps?|parks?)\b|\bwhen i see (?:him|her|them)\b|"
            r"\bwait(?:ing)? for (?:him|her|them)\b|\b(?:waiting|parked|sitting|standing|hiding) (?:outside|at|"
            r"near|by|for|across from) (?:his|her|"
            r"their) (?:work|house|place|school|door|office|car|flat|gym)\b|\bteach (?:him|her|them|"
            r"everyone) a lesson\b|\bmake (?:him|her|them) pay\b|\bdecide when\b|\bshoot up\b|"
            r"\bgoing to (?:hurt|stab|shoot|kill|get) (?:him|her|them|the)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:cook\w*|recipe|chef|knife skills|sharpen\w*|hunting|range|class|cricket|baseball|"
        r"softball|game|movie|film|show|book)\b",
    ),
    rule(
        "harm_to_others_revenge",
        HO,
        0.88,
        r"\b(?:make (?:him|her|them|everyone) (?:all )?pay|teach (?:him|her|them|everyone) a lesson|"
        r"get (?:my )?revenge|get even with|get back at (?:him|her|them|my \w+|that \w+))\b",
        (NEG, PAST, TOPIC, JOKE),
        also=(r"\b(?:tonight|know where|address|knife|gun|bat|weapon|hurt|blood|kill|bleed|suffer)\b",),
        scope=MESSAGE,
        unless=r"\b(?:dinner|bill|drinks|rent|lunch|coffee|game|chess|court|lawyer|sue|report|review)\b",
    ),
    rule(
        "harm_to_others_armed_thoughts",
        HO,
        0.88,
        r"\b(?:sharpen\w*|bought|buying|got|hid|hidden|carry\w*|load\w*|clean\w*|holding|have) (?:a |my |"
        r"the |his |a new )?(?:knife|gun|blade|machete|bat|axe|rifle|pistol|crossbow)\b",
        (NEG, PAST, TOPIC, JOKE),
        also=(
            r"\b(?:thinking about|think about|thought about|keep thinking|waiting for|when i see|"
            r"going to) (?:him|her|them|my ex|my [\w']+|his|her|their|that \w+)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:cook\w*|chef|recipe|kitchen|hunt\w*|range|class|birthday|gift|present|collection|"
        r"camping|fishing|cricket|baseball|softball)\b",
    ),
    rule(
        "harm_to_others_veiled_threat",
        HO,
        0.88,
        r"\bmake (?:them|him|her|everyone|you all|all of them) (?:all )?(?:regret it|regret|pay|sorry|"
        r"suffer)\b",
        (NEG, PAST, TOPIC, JOKE),
        also=(
            r"\b(?:tomorrow|tonight|at work|at school|(?:they|he|she|you|everyone) will (?:all )?see|"
            r"see what happens|they will all|monday|friday|this week)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:dinner|bill|drinks|rent|lunch|coffee|game|chess|court|lawyer|sue|report|review|"
        r"prank|presentation|promotion|success|proving|prove)\b",
    ),
    rule(
        "harm_to_others_arson",
        HO,
        0.9,
        r"\b(?:burn|burning|torch|torching|set fire to|set on fire)\b.{0,30}\b(?:his|her|their|"
        r"my [\w']+|the) (?:house|flat|car|place|home|shop|office|apartment|school)\b",
        (NEG, PAST, TOPIC, JOKE),
        also=(
            r"\b(?:want|going to|will|planning|plan|thinking about|petrol|gasoline|lighter fluid|matches|"
            r"tonight)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:accident\w*|nearly|almost|cooking|toast|candle|oven|recipe|song|lyrics)\b",
    ),
    rule(
        "harm_to_others_armed_intent",
        HO,
        0.9,
        r"\b(?:bring|bringing|take|taking|carry|carrying|get|getting|got) (?:a |my |the |his |her |"
        r"my dad'?s )?(?:gun|knife|weapon|rifle|pistol|bomb|machete)\b",
        (NEG, PAST, TOPIC, JOKE),
        also=(
            r"\b(?:tomorrow|tonight|fires? me|at work|to work|school|office|manager|boss|teacher|class|"
            r"him|her|them|they will|show them|pay|regret|lesson|sorry)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:range|hunting|camping|licen[cs]e|fishing|collection|cleaning|museum|cooking|chef|"
        r"knife skills|kitchen|recipe|cake|bread|steak|pocket ?knife for|swiss army|permit|repair|"
        r"sharpening|props?|cosplay|costume|airsoft|paintball|nerf|water gun|glue gun|nail gun|heat gun|"
        r"spray gun|bath bomb|photo bomb|bomb(?:ed)? (?:the|my|an?) (?:exam|test|interview)|knife block)\b",
    ),
    rule(
        "harm_to_others_smother",
        HO,
        0.9,
        r"\b(?:put(?:ting)?|hold(?:ing)?|press(?:ing)?) (?:a |the )?(?:pillow|cushion|bag|"
        r"plastic bag) over (?:his|her|their|my [\w']+(?: [\w']+)?) (?:face|head|mouth)\b|"
        r"\bhold(?:ing)? (?:him|her|them|my [\w']+) under (?:the )?water\b",
        (NEG, PAST, MEDIA, JOKE),
        unless=r"\b(?:pillow fight|swimming lesson|baptis\w*|play\w*|tickl\w*)\b",
    ),
    rule(
        "harm_to_others_third_person",
        HO,
        0.9,
        r"\b(?:he|she|they|my (?:\w+ ){0,2}\w+)(?: just)? (?:said|says|is saying|told me|texted|posted|"
        r"keeps saying|threatened|threatens)(?: that)?(?: (?:he|she|they))?(?: is| are| will|"
        r" would)?(?: going to| about to)? (?:hurt|kill|stab|shoot|attack|beat up|bomb|shoot up) (?:the|"
        r"his|her|their|a|some|someone|somebody|everyone|people|him|her|them)\b",
        (NEG, PAST, TOPIC, JOKE),
        unless=r"\b(?:game|chess|match|exam|test|feelings|kill (?:it|time))\b",
    ),
    rule(
        "harm_to_others_did_harm",
        HO,
        0.88,
        r"\bi (?:just |have |had |accidentally |nearly |almost )?(?:\w+ and )?(?:pushed|shoved|hit|"
        r"slapped|punched|kicked|choked|strangled|shook|shaken|grabbed|threw something at|hurt|smacked|"
        r"bit|beat) (?:my (?:\w+ )?(?:mum|mom|mother|dad|father|baby|son|daughter|kid|kids|child|children|"
        r"wife|husband|partner|girlfriend|boyfriend|grandma|grandmother|grandpa|grandfather|nan|sister|"
        r"brother)|the (?:baby|kids?|child))\b",
        (NEG, PAST, TOPIC, JOKE),
        unless=r"\b(?:accident\w*|by mistake|swing|stroller|pram|pushchair|wheelchair|game|play\w*|"
        r"tickl\w*|pillow fight|hit (?:my|the) \w+ up|feelings|pushed (?:my|the) \w+ to)\b",
    ),
    # ---- abuse or danger at home, happening now
    rule(
        "abuse_violence",
        AB,
        0.93,
        rf"\b{_PERSON_NOT_ME}(?: [\w']+){{0,6}}? (?:hit|hits|hitting|beat|beats|beating|punch(?:ed|es|ing)|"
        r"kick(?:ed|s|ing)|slap(?:ped|s|ping)|chok(?:ed|es|ing)|strangl(?:ed|es|ing)|shov(?:ed|es|ing)|"
        r"push(?:ed|es|ing)|threw|throws|throwing|burn(?:ed|s|t)|bit|bites|rap(?:ed|es)|molest(?:ed|s|"
        r"ing)|assault(?:ed|s|ing)|abus(?:ed|es|ing)|attack(?:ed|s|ing)|grabb(?:ed|ing)|grabs|drag(?:ged|"
        r"s)|pinn(?:ed|ing)|pins|smack(?:ed|s|ing)|whipp?(?:ed|s|ing)|belt(?:ed|s)|spat on|spits on|"
        r"threaten(?:ed|s|ing)|stalk(?:ed|s|ing)|starv(?:e|es|ed|ing)|scratch(?:ed|es)|tied|ties|"
        r"(?:do not|does not|did not|will not|never|refuse to|refuses to) (?:feed|let me eat|"
        r"give me food))(?: and \w+)? (?:me|us|my (?:kids|children|son|daughter|baby|mom|mother|mum|"
        r"sister|brother|little (?:brother|sister)|dog|cat)|the (?:kids|baby))\b|"
        rf"\b{_PERSON_NOT_ME}(?: [\w']+){{0,3}}? (?:lock(?:ed|s|ing)?|shut(?:s)?) (?:me|us) (?:in|inside|"
        r"up|out of the house)\b|\b(?:when|if|every time|whenever) i\b.{0,40}\b(?:he|she|they) (?:hurts|"
        r"hits|beats|chokes|slaps|punches|kicks|grabs|pushes|strangles|burns) me\b|\b(?:my [\w']+ |her |"
        r"his )?(?:carer|caregiver|care worker|nanny|babysitter|care home staff) (?:\w+ ){0,2}?(?:slaps|"
        r"hits|beats|pushes|shoves|kicks|hurts|abuses|pinches|grabs|slapped|hit|pushed|shoved|kicked|hurt|"
        r"abused|pinched|grabbed) (?:her|him|them|my [\w']+)\b",
        (NEG, PAST, TOPIC),
        unless=r"\bhit (?:me|us) (?:up|with (?:a|an|the|some|this) (?:\w+ )?(?:question|idea|joke|pun|"
        r"text|call|email|fact|news|request|bill|truth|reality|surprise|line|message|deadline))|"
        r"\b(?:threw|throws|throwing) (?:me|us) (?:a|an|under the bus|off)|\bgrabb?(?:ed|s) (?:me|"
        r"us) (?:a|an|some|coffee|lunch|food)|\bbeat (?:me|us) (?:at|in|to|by)|\bpush(?:ed|es|ing)? (?:me|"
        r"us) (?:to|into|out of (?:my|our) comfort|harder|forward)|\bkick(?:ed|s)? (?:me|"
        r"us) (?:out of the (?:group|chat|game|server)|off the)|\bchok(?:ed|es) (?:me|us) up\b|\b(?:at|"
        r"in) (?:chess|tennis|the game|the race|cards|monopoly)|\bwhen i was\b|\bstalk(?:ed|s|ing) (?:my|"
        r"me on) (?:instagram|insta|facebook|profile|socials|page)|\b(?:tickl|play-?fight|wrestl)\w*|"
        r"\b(?:it|that|this|reality|news|realization|the truth) hit (?:me|us)\b|\bhit (?:me|"
        r"us) hard\b(?! (?:in|on|across|with))",
    ),
    rule(
        "abuse_violence_to_other",
        AB,
        0.88,
        rf"\b{_PERSON_NOT_ME}(?: [\w']+){{0,3}}? (?:beats|hits|punches|chokes|strangles|kicks|slaps|hurts|"
        r"abuses|is beating|is hitting|is hurting|beat|hit|punched|choked|strangled|kicked|"
        r"slapped) (?:her|him|them|my (?:\w+ )?(?:mum|mom|mother|dad|father|brother|sister|nan|gran|"
        r"grandma|grandad))\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:scared|afraid|terrified|tonight|again|right now|every|home|help|worse|bruises?|"
            r"bleeding|police)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:chess|game|race|match|tennis|cards|monopoly|fifa|mario|football|soccer|boxing|"
        r"sparring|ball|tickl\w*|play-?fight\w*|wrestl\w*|hit (?:him|her|them) up|at school|teacher)\b",
    ),
    rule(
        "abuse_threat",
        AB,
        0.93,
        r"\b(?:threaten\w*|said|says|told me|tells me|swore|swears|promised|keeps saying|screamed|yelled|"
        r"texted|warned)\b.{0,70}?\b(?:will|would|is going to|was going to|are going to|going to|"
        r"to) (?:kill|hurt|beat|shoot|stab|strangle|choke|burn|finish|make|come to|show up at|find|"
        r"ruin) (?:me|us|my|the kids|the baby|himself|herself|themselves|the job|what)\b|\bburn (?:the|my|"
        r"our) (?:house|flat|place|home|car)(?: down)? with (?:me|us|the kids|"
        r"my \w+) in(?:side)?(?: it)?\b|\bblackmail\w* (?:me|us)\b|\b(?:sextort\w*|"
        r"threaten\w* to (?:share|post|send|leak) (?:my )?(?:pics|photos|nudes|pictures|videos))\b|"
        r"\b(?:has|got|is holding|pulled|is waving|pointed|keeps) (?:a |his |her |the )?(?:gun|knife|"
        r"weapon|blade) (?:on|at|to) (?:me|us|my)\b",
        (NEG, PAST, TOPIC, JOKE),
        unless=r"\bif i (?:fail\w*|flunk\w*|am late|was late|miss|break|lose|forget|get (?:a|"
        r"another) (?:b|c|d|bad)|do not (?:clean|text|call|come)|eat|crash|scratch|spoil|tell (?:her|"
        r"him) about the party)\b|\b(?:grades?|curfew|homework|report card|dishes|chores|surprise party|"
        r"i said|i told)\b",
    ),
    rule(
        "abuse_danger_now",
        AB,
        0.9,
        rf"\b(?:scared|afraid|terrified|frightened)(?: of)?(?: that)? {_PERSON_NOT_ME}(?: will|"
        r" is going to| might| may| could|'ll)? (?:kill|hurt|hit|beat|find|come back|do something to|"
        r"strangle|choke) ?(?:me|us|my|the)?|\b(?:not|never) (?:feel )?safe (?:at home|"
        r"in my (?:own )?(?:home|house|room|bed)|here|with (?:him|her|them|my \w+))\b|\b(?:afraid|scared|"
        r"terrified) to go (?:back )?home\b|\b(?:afraid|scared|terrified|frightened) (?:to go|of going) (?:back )?"
        r"(?:in(?:side)? )?to (?:the|my|our) (?:house|flat|home|apartment|place)\b|\bhiding (?:in|from)\b.{0,40}\b(?:him|her|them|bathroom|"
        r"closet|wardrobe|room|car|basement|attic)\b|\b(?:he|she|they)(?: is| are)?(?: outside|"
        r" downstairs| upstairs| at the door| here| back)? (?:banging|pounding|kicking|trying to break|"
        r"breaking) (?:on |down |in )?(?:the|my) (?:door|window)\b|\b(?:will not|does not|"
        r"do not) let me (?:leave|go out|out of the house|out of the room|see my|have my phone|eat|sleep|"
        r"call)\b|\b(?:he|she|they) (?:took|takes|smashed|broke|hid) my (?:phone|keys|car keys|passport|"
        r"money|cards?|bank cards?|car|wallet)\b.{0,40}\b(?:can not|could not) (?:leave|call|get out|escape)\b|\b(?:he|she|they|"
        r"my (?:\w+ )?(?:dad|father|mom|mother|stepdad|husband|boyfriend|partner))(?: is| are)? (?:drunk|"
        r"high|raging|angry|screaming)(?: again)? and (?:smashing|breaking|throwing|punching|hitting|"
        r"threatening|coming)\b|\bhe has a (?:gun|knife) and\b",
        (NEG, PAST, TOPIC),
        unless=r"\bhiding (?:in|from) (?:my|the) (?:responsibilities|work|emails?|inbox|problems|feelings|"
        r"neighbou?rs? (?:at|in) the (?:shop|store|supermarket))|\b(?:surprise|party|hide and seek|"
        r"game)\b|\b(?:spider|wasp|bee|bug|mouse|rat|snake|ghost|horror movie|storm|thunder)\b|\bgo "
        r"(?:back )?home and (?:tell|show|admit)\b|\b(?:failed|grades?|report card|exam results|driving "
        r"test|test results)\b",
    ),
    rule(
        "abuse_control",
        AB,
        0.86,
        r"\b(?:not allowed to|am not allowed to|forbidden to|will not let me|does not let me|"
        r"never lets me) (?:leave the (?:house|flat|room|home)|leave|go out|see my (?:friends|family)|"
        r"talk to (?:my )?(?:friends|family|anyone)|have (?:my own )?(?:money|a phone)|call (?:anyone|"
        r"my \w+))\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:he|she|they|him|her|them|my (?:[\w']+ )?(?:husband|wife|partner|boyfriend|girlfriend|"
            r"dad|father|mom|mum|mother|parents|stepdad))\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:until|homework|grounded|curfew|covid|quarantine|isolat\w*|doctor|hospital|flu|sick|"
        r"contagious|dog|vet|exam|revision)\b",
    ),
    rule(
        "abuse_barricaded",
        AB,
        0.9,
        r"\b(?:we are|i am|we have|i have|we|i|we are all) (?:locked|barricaded|hiding|"
        r"hidden)(?: ourselves| myself)? in (?:the|my|our) (?:bathroom|room|bedroom|closet|car|basement|"
        r"attic)\b",
        (NEG, PAST, TOPIC),
        also=(r"\b(?:he|she|they|him|her|them|drunk|angry|raging|hurt|hit|hits|screaming|smashing|bad)\b",),
        scope=MESSAGE,
        unless=r"\b(?:locked out|key|keys|hide and seek|game|escape room|surprise|spider|wasp|bug|mouse|"
        r"introvert|party|guests|in-?laws)\b",
    ),
    rule(
        "abuse_strangulation_signs",
        AB,
        0.9,
        r"\b(?:bruises?|marks?|fingerprints?|finger marks|handprints?|red marks)\b.{0,30}\b(?:on|around|"
        r"across) my (?:neck|throat)\b|\b(?:telling|told|tell|say|said|saying) (?:everyone|people|them|"
        r"my \w+|the (?:teacher|nurse|doctor))\b.{0,20}\b(?:i fell|i tripped|i walked into|"
        r"it was an accident|i bumped|i slipped|it was nothing)\b|\bcover(?:ing)? (?:up )?(?:the |"
        r"my )?(?:bruises|black eye|marks on my)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:hickey|love bite|necklace|choker|collar|lanyard|strap|seatbelt|acne|tattoo|spots|"
        r"eye bags|dark circles|rugby|football|hockey|martial arts|bjj|boxing)\b",
    ),
    rule(
        "abuse_stalking",
        AB,
        0.88,
        r"\b(?:a man|a guy|a woman|a stranger|someone|somebody|some (?:guy|man|woman|dude)|my ex|he|she|"
        r"they)\b(?:\s+\S+){0,6}?\s+(?:has been |have been |is |keeps |kept |was )?(?:following|"
        r"followed|stalking|stalked) (?:me|us)\b|\b(?:keeps|kept|has been|have been|is|was) (?:showing|"
        r"turning) up (?:at|outside) my (?:work|house|flat|school|door|home|job|place|office|gym)\b|"
        r"\b(?:a man|a guy|a stranger|someone|somebody|some (?:guy|man|woman|dude)|"
        r"my ex)\b(?:\s+\S+){0,6}?\s+(?:is |has been |was |keeps |kept )?(?:standing|waiting|parked|"
        r"sitting|lurking|hanging around|banging|knocking)\b.{0,20}\b(?:outside|at|in front of|"
        r"by) (?:my|the) (?:house|flat|building|door|front door|window|apartment|home|work|school|car)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:home|outside|every (?:day|night)|for (?:weeks|days|hours|an hour|months)|again|scared|"
            r"afraid|terrified|will not (?:leave|go away|stop)|still there|right now|building|house|door|"
            r"window|restraining order)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:on|to) (?:instagram|insta|twitter|tiktok|socials|social media|facebook|spotify|"
        r"github|linkedin|youtube|twitch)\b|\bfollowed (?:me|us) back\b|\bfollowing me (?:on|back)\b|"
        r"\b(?:dog|cat|puppy|kitten|toddler|shadow|delivery|uber|taxi|pizza|parcel|package|friend|"
        r"my (?:\w+ )?(?:husband|wife|partner|boyfriend|girlfriend|mom|dad|mum))\b",
    ),
    rule(
        "abuse_break_in",
        AB,
        0.9,
        r"\b(?:my ex|he|she|they|my (?:\w+ )?(?:husband|boyfriend|partner|wife|girlfriend|dad|father|"
        r"stepdad|ex-?\w+))\b(?:\s+\S+){0,3}?\s+(?:broke|breaks|broken|forced (?:his|her|"
        r"their) way) (?:into|in) (?:my|our|the) (?:flat|house|home|apartment|room|place)\b|"
        r"\bnext time (?:he|she|they) will (?:kill|hurt|finish)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:lol|locked out|keys?|forgot|lost)\b",
    ),
    rule(
        "abuse_weapon_shown",
        AB,
        0.9,
        r"\b(?:he|she|they|my (?:\w+ )?(?:husband|boyfriend|partner|wife|girlfriend|dad|father|stepdad|"
        r"mom|mother|ex))\b(?:\s+\S+){0,3}?\s+(?:put|puts|placed|laid|lays|slammed|left|keeps|pulled|"
        r"pulls|waved|waves|pointed|points|held|holds|showed|shows|loaded|loads)(?: out)? (?:a|his|her|"
        r"the|their) (?:gun|knife|rifle|pistol|weapon|shotgun)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:on the table|at me|to my head|in front of me|while we|when we|during|argu\w*|fight|"
            r"talked|talk|controls?|scared|afraid|threat\w*|at us|next to me|on the bed|pillow)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:hunting|range|collection|cleaning kit|licensed|club|museum|movie|film|game)\b",
    ),
    rule(
        "abuse_overheard",
        AB,
        0.85,
        r"\b(?:hear|hearing|heard|can hear|listening to)\b.{0,80}\b(?:hitting|beating|slapping|punching|"
        r"smacking|being hit|being beaten|hitting (?:her|him|them)|thuds?|begging (?:him|her|"
        r"them) to stop|screaming for help|crying for help)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:movie|film|tv|show|game|renovat\w*|drill\w*|construction|drums?|music|party|"
        r"hammer\w*)\b",
    ),
    rule(
        "abuse_sexual",
        AB,
        0.9,
        rf"\b{_PERSON_NOT_ME}(?: \w+){{0,2}}? (?:rap(?:ed|es|ing)|molest(?:ed|s|ing)|forc(?:ed|es|"
        r"ing) (?:me|himself|herself) (?:on me|to (?:have sex|do (?:sexual|stuff|things))|into (?:sex|"
        r"bed))|touch(?:ed|es|ing) me (?:there|down there|when|at night|inappropriately|without|and i)|"
        r"makes me (?:touch|do sexual|have sex)|comes into my (?:room|bed) at night|(?:keeps|kept|always|"
        r"still|will not stop|does not stop) (?:touching|groping|grabbing) me)\b|\btouch(?:es|ed|"
        r"ing) me\b.{0,50}\b(?:(?:does not|did not|will not|nobody|no one) believes? me|when (?:no one|"
        r"nobody|mum|mom|she|he) is (?:around|home|out|asleep|at work))\b|\b(?:i am being|i was just|"
        r"i got|i have been being) (?:raped|molested|sexually (?:abused|assaulted)|abused|beaten|"
        r"trafficked)\b",
        (NEG, PAST, TOPIC),
    ),
    # ---- medical emergencies
    rule(
        "medical_overdose",
        MED,
        0.96,
        r"\b(?:took|take|taken|taking|swallowed|swallow|downed|ate|popped|have taken|just took|"
        r"drank) (?:like |about |maybe |around |over )?(?:a (?:whole |full |entire )?(?:bottle|box|packet|"
        r"pack|handful|bunch|lot|ton|load|strip|sheet|blister)|(?:the|my) (?:whole|entire|full|"
        r"rest of the|rest of my) (?:bottle|box|packet|pack|strip|prescription|supply|month'?s? (?:supply|"
        r"worth)|week'?s? (?:supply|worth))|all (?:of )?(?:my|the|his|her|their) |(?:way )?too many|"
        r"double|triple|\d{2,}|twenty|thirty|forty|fifty|sixty|a hundred|dozens?|fifteen|twelve|ten|"
        r"eleven|fourteen|several|way more)\b.{0,40}\b"
        + _PILLS
        + r"|\b(?:over ?dos(?:e|ed|ing)|od'?(?:d|ed|ing)|o\.d\.?'?d?|oded)\b|"
        r"\bmix(?:ed|ing)? (?:my |some |a bunch of |all my )?"
        + _PILLS
        + r" (?:with|and) (?:alcohol|vodka|wine|beer|whiskey|drinks?|booze|liquor|xanax|benzos?|opioids?)\b|"
        r"\b(?:drank|swallowed|ingested|drinking|ate) (?:some |a bottle of |a cup of |the )?(?:bleach|"
        r"antifreeze|poison|drain cleaner|rat poison|detergent|laundry pod|pesticide|weed killer|"
        r"lighter fluid|paint thinner|mouthwash bottle)\b|\b(?:took|take|taken|mixed|swallowed|downed|"
        r"popped)\b.{0,20}\b(?:random|a bunch of|a handful of|loads of|lots of|different|all sorts of|"
        r"a mix of|whatever|a load of|a few different|unknown|someone else'?s|"
        r"strange)\b.{0,20}\b(?:pills|meds|tablets|medications?|drugs)\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\b(?:photos?|pictures?|selfies?|screenshots?|notes?|shots of (?:espresso|coffee)|naps?|"
        r"breaks?|classes?|courses?|vitamins?|gummy bears|candy|sweets|caffeine|coffee|sugar|junk food|"
        r"netflix|doomscroll\w*|social media|supplements?|multivitamins?|probiotics?)\b|\bover ?dos(?:e|"
        r"ed|ing) on (?:netflix|tv|coffee|caffeine|sugar|candy|chocolate|sleep|carbs|cheese|anime|love|"
        r"drama|content|memes?|gym|work)\b|\b(?:naloxone|narcan) (?:training|course|class|kit)\b|"
        r"\b(?:prescribed|as directed|my daily|my usual|vitamin)\b|" + _OVERDOSE_ON_TREAT,
    ),
    rule(
        "medical_acute",
        MED,
        0.93,
        r"\b(?:i|he|she|they|my \w+|the baby)(?: \w+){0,2}? (?:is not|are not|stopped|not|can not|"
        r"barely|was not) breathing\b|\b(?:is|are|was|am|were) (?:not|barely|hardly) breathing\b|"
        r"\bstopped breathing\b|\bnot breathing (?:properly|right|normally)\b|\bbarely breathing\b|"
        r"\bcan not (?:breathe|catch my breath)\b|\bchest (?:pain|pains|is (?:tight|hurting|crushing|"
        r"on fire|killing me)|hurts|feels (?:tight|heavy|crushed))\b|\bchest (?:feels |is )?(?:like (?:it is|something is|"
        r"someone is) )?(?:being )?(?:crushed|squeezed)\b|\b(?:crushing|squeezing) (?:pain |feeling )?in my "
        r"chest\b|\b(?:left )?arm (?:is |went |has gone |"
        r"going )?(?:numb|tingling|dead)\b.{0,40}\bchest\b|\bchest\b.{0,60}\b(?:left )?arm (?:is |went |"
        r"has gone |going )(?:numb|tingling|dead)\b|\b(?:having|had|think i am having|"
        r"is having) (?:a )?(?:heart attack|stroke|seizure|fit|anaphylactic|allergic reaction|"
        r"asthma attack)\b|\b(?:(?:is|are|was|started|keeps?) fitting\b(?! in)|seizing|convulsing|"
        r"unresponsive|unconscious)\b|\bpassed out and (?:will not|can not|is not|does not)\b|"
        r"\b(?:can not|could not|will not) wake (?:him|her|them|my \w+|up my \w+) up\b|\b(?:bleeding|"
        r"blood) (?:a lot|heavily|badly|everywhere|non ?stop|will not stop|is not stopping|through the|"
        r"all over)\b|\b(?:can not|will not|does not|could not) stop (?:the )?bleeding\b|"
        r"\blost a lot of blood\b|\bthroat (?:is |feels )?(?:closing|swelling|tight)|"
        r"\btongue (?:is )?swelling\b|\banaphyla\w+|\b(?:lips|face|skin|fingers) (?:are |is |turning |"
        r"turned |going )blue\b|\b(?:vomiting|throwing up|coughing up|puking) blood\b|"
        r"\bface (?:is )?drooping\b|\bslurr(?:ed|ing) (?:my |his |her )?(?:speech|words)\b|"
        r"\bcall(?:ing)? (?:911|999|112|000|an ambulance)\b|\b(?:need|needs) an ambulance\b|\b(?:he|she|"
        r"they|my [\w']+(?: \w+)?)(?: is| are| now)? (?:will not|would not|does not|is not|"
        r"can not) (?:wake|waking) up\b|\bfell(?! (?:asleep|for|in love|behind|apart|off the wagon|out|"
        r"through|short|into))\b.{0,60}\b(?:can not get up|can not move|will not get up|"
        r"lying on the floor|unconscious|not making sense|hit (?:his|her|my) head)\b|\bsuicide attempt\b|"
        r"\b(?:he|she|they|my (?:\w+ )?\w+)(?: is| are)? (?:not|no longer) (?:responding|waking up|"
        r"moving)\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\b(?:laugh\w*|lol|lmao|haha\w*|so funny|hilarious|joke|funny)\b|\b(?:nearly|almost|"
        r"you) (?:gave|give|giving) me a heart attack\b|\bgave me a (?:heart attack|stroke)\b|"
        r"\b(?:stroke of (?:luck|genius)|heat stroke|brush ?stroke|backstroke|breaststroke|hissy fit|"
        r"fit of)\b|\b(?:nose|stuffy|blocked|congested|mask|corset|tight jeans)\b|\b(?:nosebleed|"
        r"paper cut|period)\b|\bchest (?:day|workout|press)\b|\bcan not breathe (?:without|through) (?:my|"
        r"the)\b|\bwake up (?:early|for school|in the morning|for work|on time|until)\b|\bnap\b|"
        r"\b(?:nearly|almost) (?:had|have|having) (?:a )?heart attack\b|\bheart attack (?:when|at|because|"
        r"from)\b|\b(?:plant|battery|phone)\b|\bto (?:my )?(?:texts|messages|calls|emails|dms)\b|"
        r"\b(?:online|app|laptop|computer|screen|website|server|project|negotiations?)\b",
    ),
    rule(
        "medical_collapse",
        MED,
        0.9,
        r"\b(?:he|she|they|my (?:\w+ )?\w+|i|someone|a (?:man|woman|guy|kid|child|"
        r"person))(?: just)? (?:collapsed|fainted|passed out|blacked out|fell unconscious|keeled over|"
        r"keep fainting|keep passing out)\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:not (?:responding|breathing|moving|waking up|answering me)|unresponsive|will not wake|"
            r"can not wake|does not wake|blue|twice|three times|heart|chest|pulse|seizure|shaking|"
            r"hit (?:my|his|her|their) head|bleeding|suddenly|help|in the kitchen|in the bathroom|"
            r"in the street|weird|breath)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:lol|laugh\w*|asleep|couch|sofa|in front of the tv|tired|after (?:the )?(?:party|"
        r"work|dinner)|startup|company|market|economy|deal|plans?|negotiations?|project|bridge|roof|tent|"
        r"building)\b",
    ),
    rule(
        "medical_intoxication",
        MED,
        0.9,
        r"\b(?:took|taken|had|drank|smoked|used|did|ate|taking) (?:way )?too (?:much|many)\b|\b(?:drank|"
        r"downed|finished|chugged) (?:a |an )?(?:whole|entire|full) bottle of (?:vodka|whisk(?:e)?y|gin|"
        r"rum|tequila|wine|spirits|liquor)\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:shaking|spinning|can not breathe|heart (?:is )?(?:racing|pounding)|chest|throwing up|"
            r"vomiting|passing out|passed out|hallucinat\w*|seizure|numb|can not stop|can not feel|"
            r"can not stay awake|blue|confused|dying|breathing|unconscious|will not wake|unresponsive|"
            r"choking|cold and)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:food|pizza|coffee|caffeine|espresso|energy drinks?|sugar|cake|candy|chocolate|"
        r"cheese|dessert|lol|haha|junk|burger|fries|takeaway|sun|gym|workout|exercise|time off|holiday|"
        r"on my plate|spicy|hot sauce|chilli|chili|wings)\b",
    ),
    rule(
        "medical_ingestion",
        MED,
        0.92,
        r"\b(?:swallowed|ate|drank|got into|has eaten|has swallowed|might have swallowed|"
        r"may have swallowed|drinking|eating)\b.{0,30}\b(?:button batter(?:y|ies)|batter(?:y|ies)|"
        r"magnets?|bleach|detergent|laundry pods?|dishwasher (?:tablet|pod)s?|cleaning products?|"
        r"chemicals|nail polish remover|antifreeze|drain cleaner|rat poison|weed killer|e-?liquid|"
        r"vape (?:juice|liquid)|essential oils?)\b|\bmy (?:little |baby |younger )?(?:sister|brother|son|"
        r"daughter|baby|kid|toddler|child|niece|nephew|grandson|granddaughter)\b.{0,30}\b(?:swallowed|"
        rf"ate|drank|got into|took)\b.{{0,30}}\b(?:{_PILLS}|medicine|a coin|coins)\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\b(?:dog ate my homework|battery (?:life|died|is)|magnets? (?:on|for) the fridge)\b",
    ),
    rule(
        "medical_child_red_flags",
        MED,
        0.9,
        r"\b(?:baby|newborn|infant|toddler|son|daughter|child|kid|little one)\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:floppy|limp|will not wake(?: up)?(?: properly)?|would not wake|can not wake (?:him|"
            r"her)|hard to wake|unresponsive|not waking up|turning blue|lips (?:are |look )?blue|"
            r"rash (?:that )?(?:does not|did not|will not) fade|not breathing|seizure|fitting|lethargic|"
            r"not feeding|no wet (?:nappies|diapers)|grunting)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:doll|toy|game|video|movie|lol|nap|bedtime|sleep (?:schedule|training)|teenager|teen)\b",
    ),
    rule(
        "medical_signs",
        MED,
        0.9,
        r"\b(?:clutching|holding|grabbing|gripping) (?:his|her|my|their) chest\b|"
        r"\b(?:blood (?:is )?(?:pouring|gushing|spurting|squirting|pumping)|(?:pouring|gushing|"
        r"spurting) (?:with )?blood)\b|\b(?:speech|words|voice) (?:is |are |was |sounds |"
        r"sound )?(?:all )?slurr(?:ed|ing)\b|\b(?:is|are) not (?:moving|responding|breathing)\b|"
        r"\bfell(?! (?:asleep|for|in love|behind|apart|off the wagon|out|through|short|"
        r"into))\b.{0,60}\b(?:not moving|not responding|not breathing|will not wake|unconscious)\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\b(?:drunk|wasted|tipsy|lol|haha|beer|wine|pints|car|traffic|queue|line|project|plans?|"
        r"market|stocks?|prices?|needle|scales?|weight|numbers|story|relationship|things|nothing|career|"
        r"life|bus|train|nose ?bleed|period|game|movie|film|tv|show|it|app|website|server|laptop|phone|"
        r"computer|team|negotiations?)\b",
    ),
    rule(
        "medical_stroke_signs",
        MED,
        0.9,
        r"\bcan not (?:lift|raise|move|feel) (?:his|her|my|their) (?:arm|leg|hand)\b|\bcan not (?:speak|"
        r"talk|get (?:her|his|my) words out)\b|\b(?:half|one side) of (?:his|her|my|their) face\b|"
        r"\bhalf (?:his|her|my|their) face\b|"
        r"\b(?:face|mouth|smile) (?:is |looks |went |has gone |has )?(?:drooping|droopy|lopsided|crooked|"
        r"dropped)\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:suddenly|sudden|slurr\w*|face|speech|talk|speak|confused|droop\w*|stroke|numb|one side)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:gym|workout|lifting|sore|shoulder injury|tennis elbow|physio|sleeping on it|"
        r"slept on it|lol|haha|botox|dentist|filling)\b",
    ),
    rule(
        "medical_reaction",
        MED,
        0.88,
        r"\b(?:bad|severe|allergic|weird|terrible|awful|really bad) reaction to\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:shaking|sweating|swelling|swollen|can not breathe|struggling to breathe|vomiting|"
            r"throwing up|seizure|confused|passed out|passing out|heart (?:is )?(?:racing|pounding)|hives|"
            r"lips|throat|tongue|collapsed|unconscious|blue)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:sore|mild|bit of|slight|last year|years ago|emotional|news|comment|post|feedback|"
        r"movie|film|show|fine now|okay now|ok now)\b",
    ),
    rule(
        "medical_head_injury",
        MED,
        0.9,
        r"\b(?:hit|bumped|banged|smashed|knocked|cracked|struck)\b.{0,20}\b(?:my|his|her|their|"
        r"the baby'?s) head\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:confused|vomit\w*|throwing up|can not see|blurry|blacked out|passed out|bleeding|"
            r"unconscious|not making sense|slurr\w*|drowsy|seizure|will not wake|can not remember|fitting|"
            r"pupils)\b",
        ),
        scope=MESSAGE,
    ),
    rule(
        "medical_neuro",
        MED,
        0.92,
        r"\bworst headache (?:of my life|i have ever had|ever)\b|\bcan not see (?:properly )?(?:out of|in|"
        r"with) (?:one|my left|my right) eye\b|\blost (?:the )?(?:vision|sight) in (?:one|my left|"
        r"my right) eye\b|\bone side of (?:my|his|her) (?:face|body) (?:is |went |has gone )?(?:numb|"
        r"droop\w*|weak|dead)\b|\b(?:my|his|her) (?:face|mouth) (?:is |went )?(?:drooping|droopy|"
        r"lopsided)\b|\b(?:fell|fall|crashed|crash|accident|hit by|thrown|came off|"
        r"fell off)\b.{0,60}\bcan not (?:feel|move) (?:my|his|her|their|anything)\b|"
        r"\bsudden(?:ly)?\b.{0,40}\b(?:can not (?:move|feel|speak|talk|see|walk)|numb on one side|"
        r"slurr\w*)\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\b(?:leg day|workout|squats|gym|lol|haha|lmao|cold|freezing|numb from sitting|asleep|"
        r"hangover|hungover|after (?:that|the|this) (?:run|hike|class|workout|session|marathon))\b",
    ),
    rule(
        "medical_burn",
        MED,
        0.88,
        r"\b(?:burn|burned|burnt|scald|scalded|scalding)\b.{0,80}\b(?:white|charred|black|leathery|"
        r"peeling off|skin (?:is )?(?:gone|coming off|falling off)|does not (?:even )?hurt|can not feel|"
        r"huge blisters?|blistering (?:badly|all over)|all over (?:my|his|her)|covers? (?:my|his|"
        r"her) (?:whole|entire))\b",
        (NEG, PAST, TOPIC, WORK),
        unless=r"\b(?:sunburn\w*|tongue|toast|dinner|food|cd|dvd|calories|bridges|out|money|candle|rice|"
        r"pan|cookies)\b",
    ),
    rule(
        "medical_blood_sugar",
        MED,
        0.9,
        r"\b(?:blood )?sugar (?:is |keeps |has been )?(?:crashing|dropping|dropped|plummeting|tanking|"
        r"really low|very low|dangerously|so low|at \d|below \d|not coming up|will not come up|"
        r"through the roof|over \d{3})\b|\b(?:hypoglycaemi\w*|hypoglycemi\w*|dka|ketoacidosis|ketones)\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:diabetic|diabetes|insulin|glucose|blood sugar|shaking|shaky|confused|can not think|"
            r"sweating|passing out|faint|dizzy|vomiting|alone|ketones|dka)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:sugar crash after|candy|cake|dessert|sweets|lol|haha|donuts?|doughnuts?)\b",
    ),
    # ---- generalisation: phrasings written from how people say these things, not from the dev set
    rule(
        "harm_to_others_violent_imagery",
        HO,
        0.9,
        r"\b(?:picturing|picture|imagin(?:e|es|ing)|fantasi[sz](?:e|es|ing)|daydream(?:s|ing)?|"
        r"visuali[sz](?:e|ing)|dream(?:s|ing)? (?:about|of)|can not stop thinking about|keep thinking about|"
        r"(?:intrusive )?thoughts? (?:of|about))\b.{0,80}?\b(?:(?:hurting|killing|stabbing|strangling|choking|"
        r"beating|hitting|punching|kicking|drowning|smothering|shooting|attacking|poisoning|pushing|shoving|"
        r"running|battering|bludgeoning|slashing|throttling) (?:(?:really|badly|seriously) )?(?:him|her|them|"
        r"my (?:\w+ )?\w+|that \w+|the (?:baby|kids?|child|guy|man|woman))|(?:smashing|bashing|caving|"
        r"kicking|beating|cracking) (?:in )?(?:his|her|their) (?:head|face|skull|teeth)|(?:until|till) "
        r"(?:he|she|they) (?:stops?|stop) (?:moving|breathing))\b",
        (NEG, PAST, TOPIC, WORK, JOKE),
        also=(
            r"\b(?:want to|wants to|wanted to|scares? me|scared|terrif\w*|frightens? me|could (?:actually |"
            r"really )?do it|can not (?:stop|shake)|keep|keeps|kept|every (?:time|day|night)|more and "
            r"more|part of me|urges?|tempt\w*|actually do it|(?:harder|hard) to stop)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:in (?:the )?(?:game|match|final|tournament|ring|fight scene)|at (?:chess|tennis|"
        r"cards)|winning|goal|shot|villain|character|novel|story|film|movie|nightmare about)\b",
    ),
    rule(
        "abuse_coercive_control",
        AB,
        0.86,
        rf"\b{_PERSON_NOT_ME}(?: [\w']+){{0,3}}? (?:checks|goes through|reads|monitors|tracks|tracked|"
        r"controls|took|takes|has taken|keeps|hides|hid) (?:all )?(?:my (?:phone|messages|texts|location|"
        r"emails|bank cards?|cards?|money|wages|pay|salary|passport|keys|car keys|benefits)|where i am|"
        r"everything i (?:do|spend|buy))\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:can not (?:leave|go|get out|see|call)|not allowed|will not let me|does not let me|"
            r"so i can not|scared|afraid|terrified|if i (?:do not|leave|tell|try)|punish\w*|or else|tracks|"
            r"controls|isolat\w*|my own money|every (?:penny|night|day)|no money|gets (?:angry|violent)|"
            r"loses it|explodes)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:grounded|curfew|screen time|parental controls?|until i (?:finish|pay)|homework|"
        r"lost my|find my|for safekeeping|while i (?:was|am) (?:away|abroad|in hospital))\b",
    ),
    rule(
        "abuse_thrown_at_me",
        AB,
        0.9,
        rf"\b{_PERSON_NOT_ME}(?: [\w']+){{0,3}}? (?:threw|throws|hurled|hurls|smashed|flung|launched) "
        r"(?:a|an|the|his|her|my|their) (?:\w+ )?\w+ (?:at|into) (?:me|us|my (?:head|face)|the kids|"
        r"my (?:son|daughter|kids|baby))\b",
        (NEG, PAST, TOPIC, JOKE),
        unless=r"\b(?:ball|frisbee|pillow|party|catch|snowball|water balloon|confetti|glitter|bouquet|"
        r"idea|question|curveball|tantrum|fit|shade)\b",
    ),
    rule(
        "suicidal_giving_away",
        S,
        0.88,
        r"\b(?:giving|gave|give|given|handing|handed) (?:\w+ )?(?:away )?(?:all )?(?:of )?my "
        r"(?:[\w']+ ){0,5}?(?:away|to (?:friends|people|my \w+|whoever))\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:will not (?:be )?need\w*|not going to need|no use for|where i am going|(?:after|when) i am "
            r"gone|do not need (?:it|them|anything) anymore|(?:oddly |strangely |so )?(?:calm|peaceful)|"
            r"my will|goodbye|in order|look after (?:them|her|him|it) for me|last|final)\b",
        ),
        scope=MESSAGE,
        unless=r"\b(?:moving|move|declutter\w*|charity|donat\w*|clear(?:ing)? out|spring clean\w*|"
        r"downsiz\w*|outgr\w*|baby clothes|minimalis\w*|marie kondo|new (?:one|phone|sofa|flat|house)|"
        r"upgrad\w*|car boot|garage sale|yard sale)\b",
    ),
    rule(
        "suicidal_letters_why",
        S,
        0.9,
        r"\b(?:wrote|written|writing|left|leaving) (?:a |some |the )?(?:letters?|notes?) (?:to|for) "
        r"(?:[\w']+ ){0,4}?(?:explaining (?:why|everything)(?:\s*$|\s*[,.;!?]| i (?:did|had to|have to|"
        r"could not|can not))|for (?:when|after) i am gone|saying (?:goodbye|sorry for everything))",
        (NEG, PAST, TOPIC, WORK),
    ),
    rule(
        "suicidal_crash_thoughts",
        S,
        0.88,
        r"\b(?:turn|turning|swerv\w*|steer\w*|drive|driving|drove|veer\w*|crash\w*)(?: the (?:wheel|car))? "
        r"(?:straight )?(?:into|off|in front of) (?:a |the |an |some )?(?:barrier|wall|tree|bridge|oncoming|"
        r"lorry|truck|traffic|river|cliff|lamppost|pillar|embankment|central reservation|bus|train|ravine|"
        r"edge)\b",
        (NEG, PAST, TOPIC),
        also=(
            r"\b(?:think about|thinking about|thought about|tempted|want to|wanted to|urge|just|keep|"
            r"imagine|imagining|how easy|wonder\w*)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:almost|nearly|had to|to avoid|someone|deer|fox|cyclist|ice|skid\w*|accident|"
        r"game|mario ?kart|gta|racing|sim)\b",
    ),
    rule(
        "suicidal_not_existing_peace",
        S,
        0.88,
        r"\b(?:peaceful|nice|easier|a relief|restful|quiet|good|better|calm)\b.{0,25}\bto (?:just )?"
        r"(?:not exist|stop existing|not be alive|not wake up|never wake up|be dead|not be here|not be "
        r"around|disappear forever|fall asleep forever)\b|\b(?:no|do not see the|what is the) point "
        r"(?:in |of )?(?:sticking around|staying around|being around|hanging on)\b|\bnot (?:going to be|be) "
        r"sticking around (?:much |for much )?longer\b|\b(?:who|anyone) would (?:even )?(?:come|turn up|"
        r"show up|go) to (?:my|the) funeral\b|\b(?:disappear|disappeared|vanish|vanished) (?:for good|"
        r"forever|permanently)\b|\b(?:cross\w* the (?:road|street)|at the (?:kerb|curb|crossing)|on the "
        r"platform)\b.{0,40}\b(?:think\w* about|tempted|want to|urge to) (?:just )?(?:not stopping|stepping "
        r"(?:out|off|in front)|walking (?:out|into)|keep walking)\b",
        (NEG, PAST, TOPIC, LAUGH),
        unless=r"\b(?:social media|instagram|internet|online|off the grid|cabin|island|holiday|for a "
        r"(?:bit|while|week)|from (?:work|this town|the group)|my (?:motivation|appetite|socks|keys|"
        r"phone|wallet)|in the (?:game|show|film|book)|magic)\b",
    ),
    rule(
        "self_harm_means_fixation",
        SH,
        0.88,
        r"\b(?:can not stop thinking about|keep thinking about|obsess\w* (?:over|about)|keep looking at|"
        r"keep going back to) (?:the |my |a )?(?:razor|blades?|razor blades?|lighter|box cutter|scissors|"
        r"sharpener blades?)\b",
        (NEG, PAST, TOPIC),
        unless=r"\b(?:shav\w*|beard|legs|order\w*|bought|buy|review|deal|sale|gillette|subscription|"
        r"haircut|craft|project)\b",
    ),
    rule(
        "medical_alcohol_and_pills",
        MED,
        0.9,
        r"\b(?:drank|downed|had|finished)\b.{0,25}\b(?:vodka|wine|whiskey|whisky|gin|rum|beers?|alcohol|"
        r"tequila|booze|spirits)\b.{0,60}\b(?:took|taken|swallowed|popped|downed)\b.{0,30}"
        + _PILLS
        + r"|\b(?:took|taken|swallowed|popped|downed)\b.{0,30}"
        + _PILLS
        + r".{0,60}\b(?:drank|downed|on top of|with)\b.{0,25}\b(?:(?:a|the|half a|most of a|whole) "
        r"bottle|bottles|vodka|whiskey|whisky|gin|rum|tequila)\b",
        (NEG, PAST, TOPIC, WORK),
        also=(
            r"\b(?:most of|a (?:whole |full |entire )?bottle|bottles|loads|lots|all|a lot|so much|too much|"
            r"too many|handful|some|a few|several|\d+)\b",
        ),
        scope=SENTENCE,
        unless=r"\b(?:prescribed|as directed|my usual|usual dose|vitamins?|one|a single|two|hangover)\b",
    ),
)
