import { describe, expect, it } from 'vitest';
import { defaultLinkBase, isWildcardHost, reachableUrl } from '../../src/http-address.ts';
import { allowedEditorHosts, editorBaseUrl } from '../../src/web/editor/editor-hosts.ts';

describe('the addresses a server is opened at', () => {
  it('opens a wildcard bind at localhost and any other bind as it is', () => {
    expect(isWildcardHost('0.0.0.0')).toBe(true);
    expect(isWildcardHost('::')).toBe(true);
    expect(isWildcardHost('127.0.0.1')).toBe(false);
    expect(reachableUrl('0.0.0.0', 3930)).toBe('http://localhost:3930');
    expect(reachableUrl('::', 3930)).toBe('http://localhost:3930');
    expect(reachableUrl('127.0.0.1', 3930)).toBe('http://127.0.0.1:3930');
    expect(reachableUrl('fd00::5', 3930)).toBe('http://[fd00::5]:3930');
  });

  it('links to localhost for loopback and wildcard binds, to HOST itself otherwise', () => {
    expect(defaultLinkBase('127.0.0.1', 3000)).toBe('http://localhost:3000');
    expect(defaultLinkBase('localhost', 3000)).toBe('http://localhost:3000');
    expect(defaultLinkBase('0.0.0.0', 3930)).toBe('http://localhost:3930');
    expect(defaultLinkBase('192.168.1.20', 3930)).toBe('http://192.168.1.20:3930');
    expect(defaultLinkBase('recap.lan', 3930)).toBe('http://recap.lan:3930');
  });

  it('the editor answers and links to a specific HOST without EDITOR_URL or EDITOR_HOSTS', () => {
    const lan = { editorHosts: undefined, editorUrl: undefined, host: '192.168.1.20' };
    expect(allowedEditorHosts(lan, 3930).has('192.168.1.20:3930')).toBe(true);
    expect(editorBaseUrl(lan, 3930)).toBe('http://192.168.1.20:3930');
    const loopback = { ...lan, host: '127.0.0.1' };
    expect([...allowedEditorHosts(loopback, 3930)].sort()).toEqual(
      ['127.0.0.1', '127.0.0.1:3930', '[::1]', '[::1]:3930', 'localhost', 'localhost:3930'].sort(),
    );
    expect(editorBaseUrl(loopback, 3930)).toBe('http://localhost:3930');
    // Named hosts are the operator's list, and only theirs (plus EDITOR_URL's).
    const named = { ...lan, editorHosts: ['editor.lan'] };
    expect(allowedEditorHosts(named, 3930).has('192.168.1.20:3930')).toBe(false);
  });
});
