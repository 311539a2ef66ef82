// The screens' one clock: the device's date and time, read here and nowhere else (the
// tidy test checks). Everything about records reads time in the wasm data core instead.

// Today by the device's clock, YYYY-MM-DD.
export const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

// Milliseconds since the epoch, by the device's clock.
export const nowMs = () => Date.now();
