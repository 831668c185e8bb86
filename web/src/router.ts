import { useEffect, useState } from 'react';

/** Hash routes (`#/battles/<id>`): the server serves one page, and links work offline and in tests. */
export function useRoute(): string[] {
  const read = () =>
    window.location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter((p) => p.length > 0 && !p.includes('='))
      .map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const href = (...parts: (string | number)[]) => `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
export const go = (...parts: (string | number)[]) => {
  window.location.hash = href(...parts);
};
