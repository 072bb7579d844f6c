// Events between the parts of the UI, on one EventTarget:
// - 'task-done' (detail: the task's status object) when a task is seen to end;
// - 'resources' (detail: the rows of /cluster/resources) after each refresh.

const target = new EventTarget();

export function emit(name, detail) {
  target.dispatchEvent(new CustomEvent(name, {detail}));
}

/** Listen; returns the function that stops listening. */
export function on(name, listener) {
  const handler = (event) => listener(event.detail);
  target.addEventListener(name, handler);
  return () => target.removeEventListener(name, handler);
}
