// After a form is refused, keyboard and screen-reader users land on the first field to fix
// (its error is read out through aria-describedby).
import { tick } from 'svelte';

export async function focusFirstInvalid(form: EventTarget | null): Promise<void> {
  await tick();
  if (form instanceof HTMLFormElement) form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
