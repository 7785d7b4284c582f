import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ERROR_CATALOG } from "../protocol/errors.ts";
import { en } from "../web/src/i18n/en.ts";
import { tr } from "../web/src/i18n/tr.ts";
import { formatNumber, translate } from "../web/src/i18n/translate.ts";
import { noticeMessage } from "../web/src/notices/notice-text.ts";
import { completion, dueStatus } from "../web/src/tasks/due-status.ts";
import { deviceName } from "../web/src/account/device-name.ts";
import { linkToken } from "../web/src/account/link-token.ts";
import type { ProgressView, TaskView } from "../protocol/coaching.ts";

// The web app's pure logic (no browser): catalogs, plural rules, notice lines from fields, due marks.

describe("web catalogs and plural rules", () => {
  test("Turkish has every English key, none empty, and both name every error code", () => {
    assert.deepEqual(Object.keys(tr).sort(), Object.keys(en).sort());
    for (const [key, message] of Object.entries(tr)) assert.ok(typeof message === "string" ? message.length > 0 : message.other.length > 0, key);
    for (const code of Object.keys(ERROR_CATALOG)) {
      assert.ok(`error.${code}` in en, code);
      assert.ok(`error.${code}` in tr, code);
    }
  });

  test("plural forms follow each language's rules, with a zero form where one is given", () => {
    assert.equal(translate("en", en["rooms.unread"], { count: 1 }), "1 unread event");
    assert.equal(translate("en", en["rooms.unread"], { count: 2 }), "2 unread events");
    assert.equal(translate("en", en["progress.send"], { count: 0 }), "Send");
    assert.equal(translate("en", en["progress.send"], { count: 3 }), "Send 3 answers");
    assert.equal(translate("tr", tr["progress.send"], { count: 3 }), "3 cevabı gönder");
    assert.equal(translate("tr", tr["rooms.unread"], { count: 1 }), "1 okunmamış olay");
    assert.equal(translate("en", en["notice.overdue"], { count: 0, title: "T", names: "" }), "Everyone finished “T”.");
  });

  test("numbers are formatted the language's way; unknown placeholders stay visible", () => {
    assert.equal(formatNumber("tr", 12345.5), "12.345,5");
    assert.equal(formatNumber("en", 12345.5), "12,345.5");
    assert.equal(translate("tr", tr["board.target"], { target: 1500 }), "Hedef: 1.500");
    assert.equal(translate("en", "{missing} here"), "{missing} here");
  });
});

describe("notice lines come from the notice's fields, not its English text", () => {
  const when = (ms: number) => `@${ms}`;
  test("each kind", () => {
    const base = { userId: "u", text: "IGNORED" };
    assert.deepEqual(noticeMessage({ ...base, notice: "reminder", taskId: "t", title: "40 soru", dueAt: 5 }, when), {
      key: "notice.reminder",
      params: { title: "40 soru", when: "@5" },
    });
    assert.deepEqual(noticeMessage({ ...base, notice: "nudge", taskId: "t", title: "X", dueAt: 7, solved: 10, target: 40 }, when).params, {
      title: "X",
      count: 30,
      when: "@7",
    });
    const overdue = noticeMessage({ ...base, notice: "overdue", title: "X", missed: [{ displayName: "Emre" }, { displayName: "Zeynep" }] }, when);
    assert.deepEqual(overdue, { key: "notice.overdue", params: { title: "X", count: 2, names: "Emre, Zeynep" } });
    const digest = noticeMessage({ ...base, notice: "digest", day: "2026-12-01", doneOnTime: 1, doneLate: 2, overdue: 3, open: 4 }, when);
    assert.equal(translate("tr", tr[digest.key], digest.params), "2026-12-01: 1 zamanında, 2 geç, 3 gecikmiş, 4 açık");
    assert.deepEqual(noticeMessage({ notice: "reminder", redacted: true }, when), { key: "notice.redacted", params: { kind: "reminder" } });
    assert.equal(noticeMessage({ notice: "something-new" }, when).key, "notice.unknown");
  });
});

describe("due marks", () => {
  const task = (over: Partial<TaskView> = {}): TaskView => ({
    id: "t",
    roomId: "r",
    title: "T",
    details: "",
    subjectId: null,
    target: 10,
    dueAt: 200_000_000,
    urgent: false,
    assignAll: true,
    assignees: ["u"],
    status: "open",
    createdBy: "c",
    createdSeq: 1,
    createdAt: 0,
    ...over,
  });
  const mine = (over: Partial<ProgressView> = {}): ProgressView => ({
    taskId: "t",
    userId: "u",
    state: "started",
    solved: 4,
    correct: 3,
    wrong: 1,
    late: false,
    seenAt: 1,
    startedAt: 1,
    doneAt: null,
    ...over,
  });
  test("upcoming, soon, overdue, done on time or late, cancelled, none", () => {
    assert.equal(dueStatus(task(), mine(), 0), "upcoming");
    assert.equal(dueStatus(task({ dueAt: 3600_000 }), mine(), 0), "soon");
    assert.equal(dueStatus(task(), mine(), 300_000_000), "overdue");
    assert.equal(dueStatus(task(), mine({ state: "done" }), 300_000_000), "doneOnTime");
    assert.equal(dueStatus(task(), mine({ state: "done", late: true }), 300_000_000), "doneLate");
    assert.equal(dueStatus(task({ status: "cancelled" }), mine(), 0), "cancelled");
    assert.equal(dueStatus(task({ dueAt: null }), mine(), 0), "none");
  });
  test("completion is solved/target, capped; done-or-not without a target", () => {
    assert.equal(completion(task(), mine()), 0.4);
    assert.equal(completion(task({ target: 2 }), mine()), 1);
    assert.equal(completion(task({ target: null }), mine()), 0);
    assert.equal(completion(task({ target: null }), mine({ state: "done" })), 1);
    assert.equal(completion(task(), null), 0);
  });
});

describe("account pages", () => {
  test("a session's device is named from its User-Agent; an unknown one is null, not a guess", () => {
    const cases: [string, { browser: string | null; os: string | null }][] = [
      ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", { browser: "Chrome", os: "Linux" }],
      ["Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", { browser: "Chrome", os: "Android" }],
      ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", { browser: "Safari", os: "iOS" }],
      ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", { browser: "Firefox", os: "Windows" }],
      ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", { browser: "Edge", os: "Windows" }],
      ["", { browser: null, os: null }],
    ];
    for (const [ua, want] of cases) assert.deepEqual(deviceName(ua), want, ua);
  });

  test("a mailed link's token comes from the fragment; anything else is no token", () => {
    assert.equal(linkToken("#token=abcdefghijklmnop_-0123"), "abcdefghijklmnop_-0123");
    assert.equal(linkToken(""), null);
    assert.equal(linkToken("#token=short"), null);
    assert.equal(linkToken("#token=<script>alert(1)</script>aaaaaaaa"), null);
  });
});
