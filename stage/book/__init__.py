"""The night's book (issue 20): curated on the /book page, typeset by `stage book`. See docs/book.md."""
