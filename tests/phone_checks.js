// The walk's own checks on one page (tests/phone_walk.py): sideways overflow, tap targets under
// minTap px, short labels broken inside a word. Returns a sentence per problem.
(minTap) => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1)
    problems.push(`overflow: the page is ${doc.scrollWidth - doc.clientWidth}px wider than the phone`);
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const describe = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} "${(el.textContent || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 24)}"`;
  // A link inside running text is exempt (WCAG 2.5.8's inline exception); every other control
  // is at least minTap square.
  const inline = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    const parent = el.parentElement;
    return parent && parent.textContent.trim().length > el.textContent.trim().length;
  };
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (!visible(el) || inline(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label');
      if (label) box = label.getBoundingClientRect();
    }
    if (box.width < minTap - 0.5 || box.height < minTap - 0.5)
      problems.push(`tap target ${Math.round(box.width)}x${Math.round(box.height)}: ${describe(el)}`);
  }
  // Short labels (tags, tabs, buttons, headers of columns) stay on one line per word: only the
  // element's own text counts (a label's input or an icon is not a line of its words).
  for (const el of document.querySelectorAll('a, button, .tag, .status, .badge, th, dt, label, h1, h2')) {
    if (!visible(el)) continue;
    const texts = [...el.childNodes].filter(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const text = texts.map(n => n.textContent).join(' ').trim();
    if (!text || text.length > 16) continue;
    const words = text.split(/\s+/).length;
    const tops = [];
    for (const node of texts) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
    }
    tops.sort((a, b) => a - b);
    let lines = tops.length ? 1 : 0;
    for (let i = 1; i < tops.length; i++) if (tops[i] - tops[i - 1] > 8) lines++;
    if (lines > words) problems.push(`broken word: ${describe(el)} on ${lines} lines`);
  }
  return problems;
}
