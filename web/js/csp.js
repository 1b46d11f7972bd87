// Styles the page's own scripts make, under the strict Content-Security-
// Policy (no inline style). The terminal (xterm.js) writes styles at run
// time in two ways the policy refuses: <style> elements, and style
// attributes through setAttribute. This module, imported first, makes both
// pass without loosening the policy for markup:
//  - every <style> element created by script gets the page's nonce, which
//    the broker puts, fresh for each answer, on the stylesheet link (the
//    browser hides it from markup; the policy allows 'nonce-…');
//  - setAttribute('style', text) becomes a CSSOM write (element.style.
//    cssText), which the policy does not govern.
// Markup injected into the page gets neither: it has no nonce, and a style
// attribute in markup is still refused.

const link = document.querySelector('link[rel="stylesheet"][nonce]');
const nonce = link ? link.nonce : '';

const { createElement } = Document.prototype;
const { setAttribute } = Element.prototype;
Document.prototype.createElement = function stampedCreateElement(name, options) {
  const el = createElement.call(this, name, options);
  if (nonce && String(name).toLowerCase() === 'style') setAttribute.call(el, 'nonce', nonce);
  return el;
};

Element.prototype.setAttribute = function cssomSetAttribute(name, value) {
  if (String(name).toLowerCase() === 'style' && this.style) {
    this.style.cssText = String(value);
    return;
  }
  setAttribute.call(this, name, value);
};
