// The only script: "select all" on the queue page. Everything works without it.
document.addEventListener("change", (event) => {
  if (!event.target.matches(".select-all")) return;
  for (const box of document.querySelectorAll("input[name=ids]")) box.checked = event.target.checked;
});
