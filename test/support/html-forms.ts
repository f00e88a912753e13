/** A form as a browser would submit it: its method, action and the fields it sends as they stand. */
export interface PageForm {
  method: string;
  action: string;
  /** Hidden and text inputs with their values, ticked checkboxes, the first option of each select. */
  fields: Array<[string, string]>;
  /** Every checkbox, ticked or not, so a test can tick one as a person would. */
  checkboxes: Array<{ name: string; value: string; checked: boolean }>;
}

function attribute(tag: string, name: string): string | undefined {
  const found = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
  return found?.[1] === undefined ? undefined : decodeEntities(found[1]);
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The forms of one of our own pages (simple, well-formed markup), in page order. */
export function formsOf(page: string): PageForm[] {
  return [...page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((match) => {
    const [, open = '', body = ''] = match;
    const fields: Array<[string, string]> = [];
    const checkboxes: PageForm['checkboxes'] = [];
    for (const input of body.matchAll(/<input\b[^>]*>/gi)) {
      const tag = input[0];
      const name = attribute(tag, 'name');
      if (!name) continue;
      const type = (attribute(tag, 'type') ?? 'text').toLowerCase();
      const value = attribute(tag, 'value') ?? (type === 'checkbox' ? 'on' : '');
      const checked = /\schecked\b/i.test(tag);
      if (type === 'checkbox' || type === 'radio') {
        checkboxes.push({ name, value, checked });
        if (checked) fields.push([name, value]);
      } else if (type !== 'submit' && type !== 'button') fields.push([name, value]);
    }
    for (const select of body.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
      const name = attribute(select[0], 'name');
      const option = /<option\b([^>]*)>([^<]*)<\/option>/i.exec(select[2] ?? '');
      if (name && option)
        fields.push([name, attribute(option[0], 'value') ?? decodeEntities(option[2] ?? '')]);
    }
    return {
      method: (attribute(open, 'method') ?? 'get').toLowerCase(),
      action: attribute(` ${open}`, 'action') ?? '',
      fields,
      checkboxes,
    };
  });
}
