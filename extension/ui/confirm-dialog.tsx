import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

interface Props {
  open: boolean;
  title: string;
  confirmLabel: string;
  /** A destructive action: its button is red and Cancel has the focus, so Enter alone does no harm. */
  danger?: boolean;
  onConfirm(): void;
  onCancel(): void;
  children?: ComponentChildren;
}

/**
 * A modal question in a native <dialog>: the browser keeps the focus inside it, Escape
 * cancels, and the page behind cannot be clicked while it is open.
 */
export function ConfirmDialog({ open, title, confirmLabel, danger, onConfirm, onCancel, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (open && !dialog?.open) dialog?.showModal();
    if (!open && dialog?.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm();
        }}
      >
        <h2 id={titleId}>{title}</h2>
        <div class="question">{children}</div>
        <div class="buttons">
          <button type="button" class="cancel" autofocus={danger} onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class={danger ? 'danger' : 'primary'} autofocus={!danger}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
