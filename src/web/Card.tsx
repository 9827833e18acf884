import type { ComponentChildren } from 'preact';

/** A titled panel of the dashboard. */
export function Card({
  title,
  aside,
  wide,
  children,
}: {
  title: string;
  aside?: ComponentChildren;
  wide?: boolean;
  children: ComponentChildren;
}) {
  return (
    <section class={`card${wide ? ' wide' : ''}`} aria-label={title}>
      <header class="card-head">
        <h2>{title}</h2>
        {aside !== undefined && <div class="card-aside">{aside}</div>}
      </header>
      {children}
    </section>
  );
}
