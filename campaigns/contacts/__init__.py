"""Contacts, contact lists, memberships and CSV imports: a resource of their own.

models.py (importable from campaigns.models too), merging.py (`ContactList.add_or_merge`:
who an incoming contact is), views.py, forms.py, urls.py (the `contacts:` URLs), tasks.py
(the background import), the importing package and import_child.py (the start of its
checking child process).
"""
