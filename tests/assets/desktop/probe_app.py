"""A tiny Tk window for the desktop tests: python probe_app.py OUT_FILE

"Probe" has a Name field (Ctrl+A selects all; Enter writes "enter:<text>" to OUT_FILE)
and a label that writes "double" on a double click.
"""

import sys
import tkinter as tk


def main(out: str) -> None:
    root = tk.Tk()
    root.title("Probe")
    root.geometry("+60+60")
    font = ("DejaVu Sans", -16)

    def write(line: str) -> None:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    tk.Label(root, text="Name:", font=font).grid(row=0, column=0, padx=8, pady=12)
    field = tk.Entry(root, width=30, font=font)
    field.grid(row=0, column=1, padx=8)
    field.bind("<Return>", lambda _e: write("enter:" + field.get()))
    field.bind("<Control-a>", lambda _e: (field.select_range(0, "end"), "break")[1])
    target = tk.Label(root, text="Double-click here", font=font, relief="ridge", padx=8)
    target.grid(row=1, column=0, columnspan=2, pady=12)
    target.bind("<Double-Button-1>", lambda _e: write("double"))
    root.mainloop()


if __name__ == "__main__":
    main(sys.argv[1])
