import assert from "node:assert/strict";
import { test } from "node:test";
import { readReasons } from "../web/src/admin/import-reason.ts";
import { en } from "../web/src/i18n/en.ts";
import { tr } from "../web/src/i18n/tr.ts";
import { translate } from "../web/src/i18n/translate.ts";

// The dry run's row reasons (written in English by server/accounts/csv-import.ts) read back into
// catalog entries, so the report is in the reader's language; unknown text stays as it was.

const say = (reason: string, catalog: typeof en | typeof tr, locale: "en" | "tr") =>
  readReasons(reason)?.map((r) => translate(locale, catalog[r.key], r.params)).join("; ");

test("every reason the import writes is read, alone and joined with others", () => {
  const cases: [string, string][] = [
    ["has 3 cells, the header has 4", "3 hücre var; başlıkta 4 sütun var"],
    ["name is empty", "ad boş"],
    ["name is longer than 100 characters", "ad 100 karakterden uzun"],
    ["email is empty", "e-posta boş"],
    ['email "x@" is not an email address', "“x@” bir e-posta adresi değil"],
    ["email dup@x.test is also on line 6", "dup@x.test e-postası 6. satırda da var"],
    ["email selin@x.test already has an account", "selin@x.test e-postasının zaten bir hesabı var"],
    ['role "teacher" must be student, coach or admin', "“teacher” rolü student, coach veya admin olmalı"],
    ["coach is only for student rows", "koç yalnızca öğrenci satırlarına yazılabilir"],
    ['coach "hoca" is not an email address', "koç “hoca” bir e-posta adresi değil"],
    ["coach hoca@x.test: no coach with this email", "hoca@x.test e-postalı bir koç yok"],
    ["room is longer than 100 characters", "oda 100 karakterden uzun"],
    ['room "11-A": several rooms have this name; use its id', "“11-A” adlı birden çok oda var: odanın kimliğini yazın"],
    ['room "Nowhere": no such room', "“Nowhere” adlı oda yok"],
  ];
  for (const [reason, turkish] of cases) {
    assert.equal(say(reason, tr, "tr"), turkish, reason);
    assert.ok(say(reason, en, "en"), reason);
  }
  assert.equal(
    say('name is empty; role "x; y" must be student, coach or admin; room "A; B": several rooms have this name; use its id', tr, "tr"),
    "ad boş; “x; y” rolü student, coach veya admin olmalı; “A; B” adlı birden çok oda var: odanın kimliğini yazın",
  );
  assert.equal(say("has 1 cells, the header has 3", en, "en"), "has 1 cell; the header has 3");
});

test("a reason the app does not know is not guessed at", () => {
  assert.equal(readReasons("the moon is full"), undefined);
  assert.equal(readReasons("name is empty; the moon is full"), undefined);
  assert.equal(readReasons("name is emptyish"), undefined);
  assert.equal(readReasons(""), undefined);
});
