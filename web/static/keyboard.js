/* The on-screen Vietnamese keyboard (templates/keyboard.html): the kiosk's browser has no other keyboard.
 *
 * Letters and signs are typed at the caret. A tone key (sắc, huyền, hỏi, ngã, nặng) puts its mark on the
 * right vowel of the word before the caret: the vowel with a hat or horn (ơ in "ươ"), else the last vowel
 * when a consonant ends the word ("toán"), the middle one of three ("ngoài"), the first of two ("hòa",
 * "của"); u after q and i after g belong to the consonant ("quý", "giá"). The same tone again takes the
 * mark off; typing more letters moves it where it belongs. The text is kept in NFC, one code point per
 * letter, as the kiosk stores it. Shift applies to one letter and is on at the start of a sentence.
 */
(function () {
  "use strict";
  var MARKS = { acute: "\u0301", grave: "\u0300", hook: "\u0309", tilde: "\u0303", dot: "\u0323" };
  var TONE = /[\u0300\u0301\u0303\u0309\u0323]/g;
  var HATS = "ăâêôơư";
  var VOWELS = "aeiouy" + HATS;
  var WORD = /[\p{L}\p{M}]+$/u;

  function strip(word) { return word.normalize("NFD").replace(TONE, "").normalize("NFC"); }
  function lower(ch) { return strip(ch).toLowerCase(); }
  function isVowel(ch) { return VOWELS.indexOf(lower(ch)) >= 0; }
  function toneOf(word) { var m = word.normalize("NFD").match(TONE); return m ? m[0] : null; }

  /* Where the tone goes in a word without tone marks (index into its code points), or -1 without a vowel. */
  function tonePlace(chars) {
    var end = -1, i;
    for (i = chars.length - 1; i >= 0; i--) { if (isVowel(chars[i])) { end = i; break; } }
    if (end < 0) return -1;
    var start = end;
    while (start > 0 && isVowel(chars[start - 1])) start--;
    if (start > 0 && end > start) {
      var before = lower(chars[start - 1]), first = lower(chars[start]);
      if ((before === "q" && first === "u") || (before === "g" && first === "i")) start++;
    }
    for (i = end; i >= start; i--) { if (HATS.indexOf(lower(chars[i])) >= 0) return i; }
    if (end === start) return start;
    if (end < chars.length - 1) return end;       // a final consonant: "toán", "hoàng"
    if (end - start === 2) return start + 1;      // three vowels: "ngoài"
    return start;                                  // two vowels, open: "hòa", "của", "mái"
  }

  function place(word, mark) {
    var chars = Array.from(strip(word));
    var at = tonePlace(chars);
    if (at < 0) return null;
    chars[at] = (chars[at].normalize("NFD") + mark).normalize("NFC");
    return chars.join("");
  }

  /* The word with `tone` ("acute", …) added, moved or (the same tone again) taken off; null without a vowel. */
  function withTone(word, tone) {
    var mark = MARKS[tone];
    if (toneOf(word) === mark) return strip(word);
    return place(word, mark);
  }

  function Keyboard(root, field, options) {
    options = options || {};
    var shift = false, layer = "letters";
    var shiftKey = root.querySelector('[data-vk-action="shift"]');
    var layerKey = root.querySelector('[data-vk-action="layer"]');

    function caret() { return [field.selectionStart, field.selectionEnd]; }

    function setShift(on) {
      shift = on;
      root.classList.toggle("vk-shift", on);
      if (shiftKey) shiftKey.setAttribute("aria-pressed", on ? "true" : "false");
    }

    function sentenceStart() {
      var before = field.value.slice(0, field.selectionStart);
      return /^\s*$/.test(before) || /[.!?]\s+$/.test(before);
    }

    function changed() {
      if (options.changed) options.changed(field.value);
    }

    function insert(text) {
      var at = caret();
      if (field.maxLength > 0 && field.value.length - (at[1] - at[0]) + text.length > field.maxLength) return;
      field.setRangeText(text, at[0], at[1], "end");
      var before = field.value.slice(0, field.selectionStart);
      var word = before.match(WORD);
      if (word && toneOf(word[0]) && /\p{L}/u.test(text)) {  // a letter after the tone: move the mark
        var moved = place(word[0], toneOf(word[0]));
        if (moved) replaceWord(before, word[0], moved);
      }
      changed();
    }

    function replaceWord(before, word, replacement) {
      var start = before.length - word.length;
      field.setRangeText(replacement, start, before.length, "end");
    }

    function tone(name) {
      var before = field.value.slice(0, field.selectionStart);
      var word = before.match(WORD);
      var toned = word && withTone(word[0], name);
      if (!toned) return;
      replaceWord(before, word[0], toned);
      changed();
    }

    function back() {
      var at = caret();
      if (at[0] === at[1] && at[0] > 0) at[0] -= 1;
      field.setRangeText("", at[0], at[1], "end");
      changed();
    }

    function setLayer(name) {
      layer = name;
      root.querySelectorAll("[data-layer]").forEach(function (el) { el.hidden = el.dataset.layer !== name; });
      if (layerKey) {
        layerKey.setAttribute("aria-label", name === "letters" ? layerKey.dataset.labelDigits : layerKey.dataset.labelLetters);
        layerKey.querySelector(".vk-to-digits").hidden = name !== "letters";
        layerKey.querySelector(".vk-to-letters").hidden = name === "letters";
      }
    }

    // Keep the caret in the text box: a key takes no focus.
    root.addEventListener("mousedown", function (e) { if (e.target.closest("button")) e.preventDefault(); });
    root.addEventListener("click", function (e) {
      var key = e.target.closest("button");
      if (!key || !root.contains(key)) return;
      if (key.dataset.vk) {
        var text = key.dataset.vk;
        insert(shift ? text.toUpperCase() : text);
        setShift(sentenceStart());
      } else if (key.dataset.tone) {
        tone(key.dataset.tone);
      } else {
        var action = key.dataset.vkAction;
        if (action === "shift") setShift(!shift);
        else if (action === "back") { back(); setShift(sentenceStart()); }
        else if (action === "space") { insert(" "); setShift(sentenceStart()); }
        else if (action === "layer") setLayer(layer === "letters" ? "digits" : "letters");
        else if (action === "done" && options.done) options.done(field.value);
      }
    });

    return {
      /* A fresh start: the text box at its end, letters, capital for the first letter of a sentence. */
      open: function () {
        setLayer("letters");
        var end = field.value.length;
        field.setSelectionRange(end, end);
        setShift(sentenceStart());
      },
      reset: function () { setLayer("letters"); setShift(false); }
    };
  }

  Keyboard.withTone = withTone;
  window.KioskKeyboard = Keyboard;
})();
