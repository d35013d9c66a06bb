// The admin pages: a Copy button beside a secret shown once puts it on the clipboard, and says so.
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const field = document.getElementById(button.dataset.copy);
    const said = document.querySelector(`[data-copied-for="${button.dataset.copy}"]`);
    try {
      await navigator.clipboard.writeText(field.value);
      said.textContent = 'Copied to the clipboard.';
    } catch {
      // No clipboard (an insecure origin, a refusal): select it for the person to copy.
      field.select();
      said.textContent = 'Selected: copy it with your keyboard or menu.';
    }
  });
}
