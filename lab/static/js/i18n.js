/* Labels and explanations in English and Korean.
 *
 * Static text carries data-i18n="key" (or data-i18n-placeholder); text written by the
 * script is kept as a key plus parameters so that switching the language rewrites it too.
 */

const MESSAGES = {
  en: {
    "title": "Push-transport lab",
    "subtitle": "one event source, three transports",
    "name.short": "Short polling",
    "name.long": "Long polling",
    "name.sse": "SSE",

    "access.checking": "checking access…",
    "access.teacher": "Teacher: controls enabled",
    "access.readonly": "Student view: read-only",
    "access.badToken": "Wrong token: read-only",
    "access.note": "Read-only: these controls change the server for everyone, so only the teacher's link (with its token) can use them. You still see everything live.",

    "ctl.rate": "Event rate",
    "unit.perSecond": "/s",
    "ctl.set": "Set",
    "ctl.pause": "Pause",
    "ctl.resume": "Resume",
    "ctl.interval": "Poll interval",
    "ctl.payload": "Payload size",
    "ctl.publish": "Publish a message",
    "ctl.publishPlaceholder": "Hello, class! (arrives in all three panels)",
    "ctl.send": "Send",
    "ctl.demos": "Demonstrations",
    "ctl.drop": "Drop all connections",
    "ctl.openStreams": "Open 7 streams",
    "ctl.closeStreams": "Close the 7 streams",

    "result.published": "Published as id {id}.",
    "result.rate": "The ticker now publishes {rate} events per second.",
    "result.paused": "The ticker is paused.",
    "result.resumed": "The ticker runs again.",
    "result.payload": "Each tick now carries {bytes} of padding.",
    "result.dropped": "The server dropped {n} held connection(s) (every client's). Watch the panels reconnect.",
    "result.interval": "Short polling now asks every {seconds} s.",
    "result.error": "The server refused: {error}",
    "result.unreachable": "The server did not answer; is it running?",
    "result.emptyMessage": "Type a message first.",
    "result.badRate": "Type a number of events per second, from 0 to 10000.",

    "strip.title": "Server side, all clients",
    "strip.requests": "requests",
    "strip.open": "open",
    "strip.bytesOut": "bytes out",
    "strip.process": "Server process",
    "strip.cpu": "CPU",
    "strip.memory": "memory",
    "strip.rate": "ticker",
    "strip.perSecond": "{value}/s",
    "strip.paused": "paused",
    "strip.tickerRate": "{rate}/s",
    "strip.waiting": "· waiting for an answer…",
    "strip.unreachable": "· server unreachable",
    "strip.restarted": "· the server restarted (new process) at {time}",

    "explain.short": "Every interval the page asks /poll “anything after id N?”. Most answers are empty, and a new event waits on the server until the next question, so the latency is about half the interval on average.",
    "explain.long": "The page asks /longpoll and the server holds the request open until an event exists (or 20 s pass: an empty 204); then the page asks again at once. Low latency, but each answer costs a whole request and response.",
    "explain.sse": "One request, and a response that never ends: the server writes each event into the open stream. If the connection drops, the browser reconnects by itself and sends Last-Event-ID, so nothing is lost.",

    "c.requests": "Requests",
    "c.connections": "Connections",
    "c.empty": "Empty responses",
    "c.emptySse": "Empty responses",
    "c.notApplicable": "never",
    "c.notApplicableWhy": "One response that never ends, so there is nothing to come back empty.",
    "c.bodyBytes": "Body bytes",
    "c.frameBytes": "Frame bytes (rebuilt)",
    "c.events": "Events",
    "c.lost": "Lost ids",
    "c.repeated": "Repeated ids",
    "c.latencyLast": "Latency, last",
    "c.latencyAvg": "Latency, 60 s avg",

    "status.starting": "connecting…",
    "status.live": "live",
    "status.liveShort": "live: asking every {seconds} s",
    "status.liveLong": "live: one request held open at a time",
    "status.liveSse": "live: one stream open",
    "status.reconnecting": "reconnecting…",
    "status.dropped": "dropped by the server: reconnecting…",
    "status.resumed": "resumed from id {id}: nothing lost",
    "status.restarted": "the server restarted: live again from id {id}",
    "status.restarting": "the server restarted: starting again live…",
    "status.unreachable": "server unreachable: retrying in {seconds} s",
    "status.stalled": "a request has waited {seconds} s for an answer (a free connection?)",
    "status.stalledLimit": "waiting {seconds} s for a free connection: all 6 are taken",
    "status.refused": "the server refused the stream ({reason}): retrying",

    "row.resumed": "reconnected: resumed from id {id}",
    "row.restarted": "server restarted (ids begin again): live from id {id}",
    "row.restartedSse": "the server restarted after id {id} (its ids began again); the stream went on from the new run's first event by itself",
    "row.restartedPoll": "the server restarted (new run {epoch}, ids begin again); continuing from its first event",
    "row.gap": "server notice: its history no longer had ids {from}–{to} ({n} events lost)",
    "row.lost": "ids {from}–{to} never arrived",
    "row.repeated": "id {id} arrived again",
    "row.otherType": "ids {from}–{to} have type “{type}”, which this stream had not listened for; listening now",
    "row.dropNothing": "“drop”: nothing to drop here, no request is held open between polls",
    "row.close": "server notice: stream closed ({reason})",

    "streams.title": "7 extra streams to /sse",
    "streams.close": "Close the 7 streams",
    "streams.explain": "Chromium opens at most 6 HTTP/1.1 connections to one server. This page already keeps 2 busy (the SSE stream and the held long poll); 7 more streams need 9. The ones that find no free connection wait in the browser's queue as “connecting…”, and so do the page's polls and metrics: watch the polling panels stall. HTTP/2 would carry all of them over one connection; this lab server speaks HTTP/1.1.",
    "streams.connecting": "connecting…",
    "streams.open": "open",
    "streams.closed": "refused by the server",
    "streams.events": "{n} events",
    "streams.stream": "stream {n}",
    "streams.summary": "{open} open, {waiting} waiting for a connection",

    "note.bytes": "Bytes: the polling panels count response bodies (the browser hides headers); the SSE panel rebuilds each event's id/event/data lines (the raw stream is hidden from the page). The server strip counts everything at its socket, headers included.",
    "note.clock": "Latency = this computer's clock − the server's timestamp on the event: exact on the server's own machine; on another laptop a clock difference shifts all three panels alike, so compare them with each other.",
    "note.offsetAhead": "This computer's clock is about {ms} ms ahead of the server's: every latency here looks that much longer.",
    "note.offsetBehind": "This computer's clock is about {ms} ms behind the server's: every latency here looks that much shorter (even below zero).",

    "chart.now": "now",
    "chart.ago": "−{s} s",
    "chart.ms": "ms",
  },

  ko: {
    "title": "푸시 전송 실습",
    "subtitle": "이벤트 출처 하나, 전송 방식 셋",
    "name.short": "숏 폴링",
    "name.long": "롱 폴링",
    "name.sse": "SSE",

    "access.checking": "권한 확인 중…",
    "access.teacher": "교사용: 조작 가능",
    "access.readonly": "학생용: 보기 전용",
    "access.badToken": "토큰이 틀림: 보기 전용",
    "access.note": "보기 전용: 이 버튼들은 모두가 함께 쓰는 서버를 바꾸기 때문에 선생님 링크(토큰 포함)에서만 쓸 수 있습니다. 이벤트는 그대로 실시간으로 보입니다.",

    "ctl.rate": "이벤트 속도",
    "unit.perSecond": "개/초",
    "ctl.set": "적용",
    "ctl.pause": "일시정지",
    "ctl.resume": "다시 시작",
    "ctl.interval": "폴링 간격",
    "ctl.payload": "페이로드 크기",
    "ctl.publish": "메시지 보내기",
    "ctl.publishPlaceholder": "안녕하세요, 여러분! (세 패널 모두에 도착합니다)",
    "ctl.send": "보내기",
    "ctl.demos": "시연",
    "ctl.drop": "모든 연결 끊기",
    "ctl.openStreams": "스트림 7개 열기",
    "ctl.closeStreams": "스트림 7개 닫기",

    "result.published": "id {id}(으)로 발행했습니다.",
    "result.rate": "이제 초당 {rate}개의 이벤트가 발행됩니다.",
    "result.paused": "이벤트 발행을 멈췄습니다.",
    "result.resumed": "이벤트 발행을 다시 시작했습니다.",
    "result.payload": "이제 각 이벤트에 {bytes}의 채움 데이터가 붙습니다.",
    "result.dropped": "서버가 열려 있던 연결 {n}개를 끊었습니다(모든 접속자 포함). 패널이 다시 연결되는 모습을 보세요.",
    "result.interval": "이제 숏 폴링은 {seconds}초마다 요청합니다.",
    "result.error": "서버가 거절했습니다: {error}",
    "result.unreachable": "서버가 응답하지 않습니다. 서버가 실행 중인가요?",
    "result.emptyMessage": "먼저 메시지를 입력하세요.",
    "result.badRate": "초당 이벤트 수를 0부터 10000 사이의 숫자로 입력하세요.",

    "strip.title": "서버 쪽 집계 (모든 접속자)",
    "strip.requests": "요청",
    "strip.open": "열린 연결",
    "strip.bytesOut": "보낸 바이트",
    "strip.process": "서버 프로세스",
    "strip.cpu": "CPU",
    "strip.memory": "메모리",
    "strip.rate": "발행 속도",
    "strip.perSecond": "초당 {value}",
    "strip.paused": "멈춤",
    "strip.tickerRate": "초당 {rate}개",
    "strip.waiting": "· 응답을 기다리는 중…",
    "strip.unreachable": "· 서버에 연결할 수 없음",
    "strip.restarted": "· {time}에 서버가 재시작됨 (새 프로세스)",

    "explain.short": "페이지가 정해진 간격마다 /poll에 “id N 다음 이벤트 있어?”라고 묻습니다. 대부분의 응답은 비어 있고, 새 이벤트는 다음 질문이 올 때까지 서버에서 기다리므로 지연은 평균적으로 간격의 절반쯤 됩니다.",
    "explain.long": "페이지가 /longpoll에 요청하면 서버는 이벤트가 생길 때까지(또는 20초가 지나 빈 204 응답을 줄 때까지) 요청을 붙잡아 둡니다. 응답을 받으면 페이지는 곧바로 다시 묻습니다. 지연은 짧지만 응답 하나마다 요청과 응답이 통째로 한 번씩 오갑니다.",
    "explain.sse": "요청은 한 번, 응답은 끝나지 않습니다. 서버는 열려 있는 스트림에 이벤트를 하나씩 써 넣습니다. 연결이 끊기면 브라우저가 알아서 다시 연결하면서 Last-Event-ID를 보내므로 빠지는 이벤트가 없습니다.",

    "c.requests": "요청 수",
    "c.connections": "연결 횟수",
    "c.empty": "빈 응답",
    "c.emptySse": "빈 응답",
    "c.notApplicable": "없음",
    "c.notApplicableWhy": "끝나지 않는 응답 하나뿐이라 비어서 돌아올 응답이 없습니다.",
    "c.bodyBytes": "본문 바이트",
    "c.frameBytes": "프레임 바이트(재구성)",
    "c.events": "받은 이벤트",
    "c.lost": "빠진 id",
    "c.repeated": "중복된 id",
    "c.latencyLast": "지연, 최근",
    "c.latencyAvg": "지연, 60초 평균",

    "status.starting": "연결하는 중…",
    "status.live": "수신 중",
    "status.liveShort": "수신 중: {seconds}초마다 요청",
    "status.liveLong": "수신 중: 요청 하나를 열어 두고 기다림",
    "status.liveSse": "수신 중: 스트림 하나가 열려 있음",
    "status.reconnecting": "다시 연결하는 중…",
    "status.dropped": "서버가 연결을 끊음: 다시 연결하는 중…",
    "status.resumed": "id {id}에서 이어받음: 빠진 것 없음",
    "status.restarted": "서버가 재시작됨: id {id}부터 새로 수신 중",
    "status.restarting": "서버가 재시작됨: 지금부터 새로 받기 시작…",
    "status.unreachable": "서버에 연결할 수 없음: {seconds}초 후 다시 시도",
    "status.stalled": "요청이 {seconds}초째 응답을 기다리는 중 (빈 연결을 기다리나?)",
    "status.stalledLimit": "{seconds}초째 빈 연결을 기다리는 중: 6개가 모두 사용 중",
    "status.refused": "서버가 스트림을 거절함 ({reason}): 다시 시도하는 중",

    "row.resumed": "다시 연결됨: id {id}에서 이어받음",
    "row.restarted": "서버 재시작 (id가 1부터 다시 시작): id {id}부터 새로 수신",
    "row.restartedSse": "id {id} 이후 서버가 재시작됨 (id가 1부터 다시 시작). 스트림이 새 실행의 첫 이벤트부터 스스로 이어졌습니다",
    "row.restartedPoll": "서버 재시작 (새 실행 {epoch}, id가 1부터 다시 시작): 첫 이벤트부터 이어서 받습니다",
    "row.gap": "서버 알림: 기록에 id {from}–{to}가 더 이상 없음 (이벤트 {n}개 유실)",
    "row.lost": "id {from}–{to}가 도착하지 않음",
    "row.repeated": "id {id}가 또 도착함",
    "row.otherType": "id {from}–{to}는 “{type}” 유형이라 이 스트림이 듣고 있지 않았습니다. 지금부터 듣습니다",
    "row.dropNothing": "“연결 끊기”: 여기는 끊을 것이 없음 (요청 사이에 열어 둔 연결이 없음)",
    "row.close": "서버 알림: 스트림 닫힘 ({reason})",

    "streams.title": "/sse 추가 스트림 7개",
    "streams.close": "스트림 7개 닫기",
    "streams.explain": "Chromium은 한 서버에 HTTP/1.1 연결을 최대 6개까지만 엽니다. 이 페이지는 이미 2개를 쓰고 있고(SSE 스트림과 붙잡혀 있는 롱 폴링 요청), 스트림 7개를 더 열면 9개가 필요합니다. 빈 연결을 얻지 못한 스트림은 브라우저 대기열에서 “연결 중…”으로 기다리고, 페이지의 폴링과 통계 요청도 함께 기다립니다. 폴링 패널이 멈추는 것을 보세요. HTTP/2라면 연결 하나로 모두 보낼 수 있지만, 이 실습 서버는 HTTP/1.1을 씁니다.",
    "streams.connecting": "연결 중…",
    "streams.open": "열림",
    "streams.closed": "서버가 거절함",
    "streams.events": "이벤트 {n}개",
    "streams.stream": "스트림 {n}",
    "streams.summary": "{open}개 열림, {waiting}개는 연결을 기다리는 중",

    "note.bytes": "바이트: 폴링 패널은 응답 본문만 셉니다(브라우저가 헤더를 숨깁니다). SSE 패널은 이벤트마다 id/event/data 줄을 다시 만들어 셉니다(원래 스트림은 페이지에서 보이지 않습니다). 서버 집계는 헤더까지 모두 서버 소켓에서 셉니다.",
    "note.clock": "지연 = 이 컴퓨터의 시계 − 서버가 이벤트에 찍은 시각. 서버와 같은 컴퓨터에서만 정확하고, 다른 노트북에서는 시계 차이만큼 세 패널이 똑같이 밀리므로 패널끼리 비교해 보세요.",
    "note.offsetAhead": "이 컴퓨터의 시계가 서버보다 약 {ms} ms 빠릅니다. 여기 보이는 지연은 모두 그만큼 길게 보입니다.",
    "note.offsetBehind": "이 컴퓨터의 시계가 서버보다 약 {ms} ms 느립니다. 여기 보이는 지연은 모두 그만큼 짧게(0보다 작게도) 보입니다.",

    "chart.now": "지금",
    "chart.ago": "−{s}초",
    "chart.ms": "ms",
  },
};

const listeners = [];
let lang = "en";

function t(key, params) {
  const table = MESSAGES[lang] || MESSAGES.en;
  let text = table[key];
  if (text === undefined) text = MESSAGES.en[key];
  if (text === undefined) return key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) =>
      params[name] === undefined ? whole : String(params[name]));
  }
  return text;
}

/* Write a translatable text into an element and remember it for language switches. */
function put(element, key, params) {
  element.dataset.i18n = key;
  if (params) element.dataset.i18nParams = JSON.stringify(params);
  else delete element.dataset.i18nParams;
  element.textContent = t(key, params);
}

function apply(root) {
  for (const element of (root || document).querySelectorAll("[data-i18n]")) {
    const params = element.dataset.i18nParams ? JSON.parse(element.dataset.i18nParams) : null;
    element.textContent = t(element.dataset.i18n, params);
  }
  for (const element of (root || document).querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
  for (const element of (root || document).querySelectorAll("[data-i18n-title]")) {
    element.title = t(element.dataset.i18nTitle);
  }
}

function setLanguage(next) {
  lang = MESSAGES[next] ? next : "en";
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  try {
    localStorage.setItem("lab-lang", lang);
  } catch (error) {
    /* private mode: the choice lasts until the page reloads */
  }
  apply();
  for (const listener of listeners) listener(lang);
}

function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && MESSAGES[asked]) return asked;
  try {
    const saved = localStorage.getItem("lab-lang");
    if (saved && MESSAGES[saved]) return saved;
  } catch (error) {
    /* no storage */
  }
  return (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en";
}

export const I18N = {
  t,
  put,
  apply,
  setLanguage,
  initialLanguage,
  onChange: (listener) => listeners.push(listener),
  get lang() {
    return lang;
  },
};
