import { useEffect, useState } from 'preact/hooks';

export type Theme = 'auto' | 'light' | 'dark';
const KEY = 'msite-theme';

function stored(): Theme {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : 'auto';
  } catch {
    return 'auto';
  }
}

function systemDark(): boolean {
  return window.matchMedia('(prefers-color-scheme: dark)').matches;
}

/**
 * The theme: `auto` follows prefers-color-scheme; `light` and `dark` are kept in localStorage and
 * set as `data-theme` on the root element (the stylesheet's switch). `dark` is what is shown.
 */
export function useTheme(): { theme: Theme; dark: boolean; next: () => void } {
  const [theme, setTheme] = useState<Theme>(stored);
  const [system, setSystem] = useState(systemDark);
  useEffect(() => {
    const m = window.matchMedia('(prefers-color-scheme: dark)');
    const on = (): void => setSystem(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'auto') delete root.dataset.theme;
    else root.dataset.theme = theme;
    try {
      if (theme === 'auto') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, theme);
    } catch {
      // Storage refused (a private window): the choice lasts until the page is closed.
    }
  }, [theme]);
  const order: Theme[] = ['auto', 'light', 'dark'];
  return {
    theme,
    dark: theme === 'dark' || (theme === 'auto' && system),
    next: () => setTheme((t) => order[(order.indexOf(t) + 1) % order.length]!),
  };
}
